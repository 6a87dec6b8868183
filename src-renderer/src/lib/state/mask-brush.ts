/**
 * The mask brush's pixel maths, pure and unit-tested (test/unit/state-mask.test.ts): round stamps with a soft edge,
 * strokes as stamps along each pointer segment, invert, and a loaded picture turned into levels at the image's size.
 * Coordinates are image pixels as floats (pixel (x, y) covers [x, x + 1) × [y, y + 1); its centre is x + 0.5).
 */
import type { MaskLevels } from './mask-png';

export type MaskTool = 'brush' | 'eraser';

/**
 * Coverage of a stamp at distance `d` from its centre: 1 inside the hard core (radius × (1 − feather)), 0 beyond the
 * radius, a smoothstep between, so a feathered edge blends without a visible ring.
 */
export function stampCoverage(d: number, radius: number, feather: number): number {
  const inner = radius * (1 - Math.min(1, Math.max(0, feather)));
  if (d <= inner) return 1;
  if (d >= radius) return 0;
  const t = (radius - d) / (radius - inner);
  return t * t * (3 - 2 * t);
}

/**
 * One stamp. The brush raises levels to its coverage (max, so going over a spot again never darkens it), the eraser
 * lowers them to 1 − coverage (min). Returns whether any level changed.
 */
export function stamp(m: MaskLevels, cx: number, cy: number, radius: number, feather: number, tool: MaskTool): boolean {
  const r = Math.max(0.5, radius);
  let changed = false;
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(m.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(m.height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const a = stampCoverage(Math.hypot(x + 0.5 - cx, y + 0.5 - cy), r, feather);
      if (a <= 0) continue;
      const i = y * m.width + x;
      const old = m.data[i];
      const v = tool === 'brush' ? Math.max(old, Math.round(255 * a)) : Math.min(old, Math.round(255 * (1 - a)));
      if (v !== old) {
        m.data[i] = v;
        changed = true;
      }
    }
  }
  return changed;
}

/** Stamps from `from` to `to`, a quarter radius apart (close enough that a fast drag leaves no gaps or beads). */
export function stampSegment(m: MaskLevels, from: { x: number; y: number }, to: { x: number; y: number }, radius: number, feather: number, tool: MaskTool): boolean {
  const spacing = Math.max(0.5, radius / 4);
  const n = Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) / spacing));
  let changed = false;
  for (let i = 1; i <= n; i++) changed = stamp(m, from.x + ((to.x - from.x) * i) / n, from.y + ((to.y - from.y) * i) / n, radius, feather, tool) || changed;
  return changed;
}

export function invertLevels(m: MaskLevels): MaskLevels {
  const data = new Uint8Array(m.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 255 - m.data[i];
  return { width: m.width, height: m.height, data };
}

export function emptyLevels(width: number, height: number): MaskLevels {
  return { width, height, data: new Uint8Array(width * height) };
}

export function isEmpty(m: MaskLevels): boolean {
  return m.data.every((v) => v === 0);
}

/**
 * A decoded picture (RGBA, as the browser's codec gives it) as mask levels at `width` × `height`: grey = Rec. 709
 * luma, alpha flattened onto black (unselected), as the engine reads a mask image; resampled bilinearly when the
 * sizes differ (stretched: a mask is drawn for this picture, so its corners belong to the picture's corners).
 */
export function levelsFromRgba(rgba: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }, width: number, height: number): MaskLevels {
  const sw = rgba.width;
  const sh = rgba.height;
  const grey = new Float32Array(sw * sh);
  for (let i = 0; i < grey.length; i++) {
    const p = rgba.data.subarray(4 * i, 4 * i + 4);
    grey[i] = ((0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]) * p[3]) / 255;
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / height - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / width - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const fx = sx - x0;
      const top = grey[y0 * sw + x0] * (1 - fx) + grey[y0 * sw + x1] * fx;
      const bottom = grey[y1 * sw + x0] * (1 - fx) + grey[y1 * sw + x1] * fx;
      out[y * width + x] = Math.round(Math.min(255, Math.max(0, top * (1 - fy) + bottom * fy)));
    }
  }
  return { width, height, data: out };
}

/**
 * Remembers the main window's size, position and maximised state between runs (userData/window-state.json).
 * A saved position that is no longer on any display (a monitor was unplugged) is dropped, keeping only the size.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/project';

export interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized?: boolean;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const FILE = 'window-state.json';

/** The saved state, made safe for the current displays; null when there is none or it is unreadable. */
export function loadWindowState(dir: string, displays: Rect[]): WindowState | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, FILE), 'utf8'));
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object') return null;
  const s = raw as Partial<WindowState>;
  const num = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
  if (!num(s.width, 400, 20000) || !num(s.height, 300, 20000)) return null;
  const out: WindowState = { width: Math.round(s.width!), height: Math.round(s.height!), maximized: s.maximized === true };
  if (num(s.x, -50000, 50000) && num(s.y, -50000, 50000)) {
    // Keep the position only if the title bar's middle is on some display.
    const cx = s.x! + s.width! / 2;
    const cy = s.y! + 10;
    if (displays.some((d) => cx >= d.x && cx < d.x + d.width && cy >= d.y && cy < d.y + d.height)) {
      out.x = Math.round(s.x!);
      out.y = Math.round(s.y!);
    }
  }
  return out;
}

export function saveWindowState(dir: string, state: WindowState): void {
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, FILE), Buffer.from(JSON.stringify(state)));
  } catch {
    /* losing the window size is harmless */
  }
}

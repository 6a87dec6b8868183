/**
 * Geometry of Conv / ConvTranspose / pooling windows: explicit pads from auto_pad, output sizes,
 * and the output_padding that makes a ConvTranspose the exact adjoint of a strided Conv (§2.2 of
 * the autodiff note: explicit pads + output_padding, never output_shape).
 */
import { attrInts, attrInt, attrString, type NodeProto } from './proto';
import { OnnxDeriveError } from './errors';

export interface WindowGeom {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin..., end...] explicit pads */
  pads: number[];
  ceil: boolean;
}

/** Resolve a Conv/Pool node's window for spatial input sizes `spatial` and kernel sizes `kernel`. */
export function windowGeom(node: NodeProto, spatial: readonly number[], kernel: readonly number[]): WindowGeom {
  const r = spatial.length;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') pads = new Array(2 * r).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const out = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i];
    }
  } else if (autoPad !== 'NOTSET') {
    throw new OnnxDeriveError('unsupported-attr', `auto_pad=${autoPad} on node "${node.name}"`, { node: node.name });
  }
  return { kernel: [...kernel], strides, dilations, pads, ceil };
}

export function windowOutSize(g: WindowGeom, spatial: readonly number[]): number[] {
  return spatial.map((x, i) => {
    const eff = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const num = x + g.pads[i] + g.pads[i + spatial.length] - eff;
    let out = (g.ceil ? Math.ceil(num / g.strides[i]) : Math.floor(num / g.strides[i])) + 1;
    // ceil_mode: the last window must start inside the input or its begin padding (ONNX/torch rule)
    if (g.ceil && (out - 1) * g.strides[i] >= x + g.pads[i]) out -= 1;
    return out;
  });
}

/**
 * Pads and output_padding of the ConvTranspose that maps a gradient of the window op's output
 * (size `out`) back to its input (size `inp`). The end pad grows when (ceil mode) the last window
 * reaches past the padded input, so the transposed output is cropped, not negatively padded.
 */
export function adjointPads(g: WindowGeom, inp: readonly number[], out: readonly number[]): { pads: number[]; outputPadding: number[] } {
  const r = inp.length;
  const pads = g.pads.slice();
  const outputPadding: number[] = [];
  for (let i = 0; i < r; i++) {
    const eff = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const full = g.strides[i] * (out[i] - 1) + eff - pads[i];
    if (full - pads[i + r] > inp[i]) pads[i + r] = full - inp[i];
    const op = inp[i] - (full - pads[i + r]);
    if (op < 0 || op >= Math.max(g.strides[i], g.dilations[i])) {
      throw new OnnxDeriveError('unsupported-attr', `cannot build the transposed window for size ${inp[i]}→${out[i]}`);
    }
    outputPadding.push(op);
  }
  return { pads, outputPadding };
}

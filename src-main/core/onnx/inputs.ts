/**
 * Concrete input shapes for one derivation: batch 1, the chosen H/W for image-like inputs and the
 * sequence length for token inputs. The Node binding ignores freeDimensionOverrides, so every
 * dimension is baked into the derived graphs.
 */
import { OnnxDeriveError } from './errors';
import type { Graph } from './graph';
import { isFloatType, valueInfoType } from './proto';

export interface InputSizeOptions {
  height?: number;
  width?: number;
  /** Sequence length for rank-3 inputs (encoder_hidden_states); default 77 (CLIP). */
  seq?: number;
  /** Explicit dims per input name (win over everything else). */
  inputDims?: Record<string, number[]>;
}

export const DEFAULT_SEQ = 77;

export function resolveInputShapes(g: Graph, opts: InputSizeOptions): Map<string, { dtype: number; dims: number[] }> {
  const out = new Map<string, { dtype: number; dims: number[] }>();
  for (const vi of g.inputs) {
    const t = valueInfoType(vi);
    if (!t) throw new OnnxDeriveError('bad-onnx', `input "${vi.name}" is not a tensor`);
    const explicit = opts.inputDims?.[vi.name];
    if (explicit) {
      out.set(vi.name, { dtype: t.dtype, dims: explicit.slice() });
      continue;
    }
    const r = t.dims.length;
    const dims = t.dims.map((d, a) => {
      const want =
        a === 0 ? 1 : r === 4 && a === 2 ? opts.height : r === 4 && a === 3 ? opts.width : r === 3 && a === 1 ? (opts.seq ?? DEFAULT_SEQ) : undefined;
      if (typeof d === 'number') {
        if (a === 0 && d !== 1 && r >= 3) {
          throw new OnnxDeriveError('bad-option', `input "${vi.name}" has a fixed batch of ${d}; re-export with a dynamic batch axis or batch 1`);
        }
        if (r === 4 && a >= 2 && want !== undefined && d !== want) {
          throw new OnnxDeriveError('bad-option', `input "${vi.name}" has a fixed size ${d} on axis ${a}, not ${want}`);
        }
        return d;
      }
      if (want === undefined) {
        throw new OnnxDeriveError(
          'bad-option',
          `input "${vi.name}" axis ${a} ("${d}") is dynamic; ${r === 4 ? 'pass --height/--width' : 'give its dims explicitly'}`,
        );
      }
      return want;
    });
    out.set(vi.name, { dtype: t.dtype, dims });
  }
  return out;
}

/** The input the Jacobian is taken with respect to: `sample`, else the only/first rank-4 float input. */
export function pickX(g: Graph, explicit?: string): string {
  if (explicit) {
    if (!g.inputs.some((i) => i.name === explicit)) throw new OnnxDeriveError('input-not-found', `model has no input "${explicit}"`);
    return explicit;
  }
  if (g.inputs.some((i) => i.name === 'sample')) return 'sample';
  const cand = g.inputs.find((i) => {
    const t = valueInfoType(i);
    return t && isFloatType(t.dtype) && t.dims.length === 4;
  });
  if (!cand) throw new OnnxDeriveError('input-not-found', 'no input named "sample" and no rank-4 float input');
  return cand.name;
}

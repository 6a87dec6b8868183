/**
 * The one dense tensor type of the core: row-major float32 data with its dims.
 * Core code stays free of onnxruntime types so it can be unit-tested without a session;
 * the engine converts at the ORT boundary.
 */
export interface Tensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function tensor(dims: readonly number[], data?: Float32Array): Tensor {
  const n = sizeOf(dims);
  if (data && data.length !== n) {
    throw new RangeError(`tensor data has ${data.length} values but dims [${dims.join(', ')}] need ${n}`);
  }
  return { dims: [...dims], data: data ?? new Float32Array(n) };
}

/** Item `i` of the leading (batch) axis, as a view that shares memory. */
export function batchItem(t: Tensor, i: number): Tensor {
  const [b, ...rest] = t.dims;
  if (i < 0 || i >= b) throw new RangeError(`batch index ${i} outside [0, ${b})`);
  const n = sizeOf(rest);
  return { dims: [1, ...rest], data: t.data.subarray(i * n, (i + 1) * n) };
}

/** Stack equally shaped [1, ...] (or unbatched) tensors along a new leading axis. */
export function stackBatch(items: readonly Tensor[]): Tensor {
  if (items.length === 0) throw new RangeError('cannot stack zero tensors');
  const itemDims = items[0].dims[0] === 1 ? items[0].dims.slice(1) : items[0].dims;
  const n = sizeOf(itemDims);
  const out = new Float32Array(n * items.length);
  items.forEach((t, i) => {
    if (t.data.length !== n) throw new RangeError('stackBatch: tensors differ in size');
    out.set(t.data, i * n);
  });
  return { dims: [items.length, ...itemDims], data: out };
}

/**
 * The one place where basis code calls the JacobianOperator: converts float64 blocks to float32 tensors,
 * splits into `maxBatch`-sized calls, checks the AbortSignal before every call, validates output shapes and
 * keeps the per-column product count.
 */
import { sizeOf } from '../tensor';
import { CancelledError, GeometryError, throwIfAborted } from './errors';
import type { Rows } from './linalg';
import { concatRows, rowsFromTensor, rowsToTensor, sliceRows } from './linalg';
import type { JacobianOperator, JacobianProductCount } from './types';

export class CountingOperator {
  readonly n: number;
  readonly m: number;
  readonly count: JacobianProductCount = { jvp: 0, vjp: 0, total: 0 };

  constructor(
    readonly op: JacobianOperator,
    private readonly signal: AbortSignal | undefined,
    private readonly maxBatch: number,
  ) {
    this.n = sizeOf(op.xDims);
    this.m = sizeOf(op.hDims);
    if (this.n === 0 || this.m === 0) throw new GeometryError('bad-shape', 'operator has an empty x or h shape');
    if (!(maxBatch >= 1)) throw new GeometryError('bad-option', `maxBatch must be ≥ 1, got ${maxBatch}`);
  }

  /** J·v and Jᵀ·J·v for every row of v. */
  async pullback(v: Rows): Promise<{ jv: Rows; jtjv: Rows }> {
    const jvs: Rows[] = [];
    const jtjvs: Rows[] = [];
    for (let start = 0; start < v.count; start += this.maxBatch) {
      const part = sliceRows(v, start, Math.min(v.count, start + this.maxBatch));
      throwIfAborted(this.signal);
      const out = await this.guard(() => this.op.pullback(rowsToTensor(part, this.op.xDims), this.signal));
      const jv = rowsFromTensor(out.jv, this.m);
      const jtjv = rowsFromTensor(out.jtjv, this.n);
      if (jv.count !== part.count || jtjv.count !== part.count) {
        throw new GeometryError('operator-output', `pullback returned ${jv.count}/${jtjv.count} rows for ${part.count}`);
      }
      this.count.jvp += part.count;
      this.count.vjp += part.count;
      this.count.total += 2 * part.count;
      jvs.push(jv);
      jtjvs.push(jtjv);
    }
    return { jv: concatRows(jvs), jtjv: concatRows(jtjvs) };
  }

  snapshot(): JacobianProductCount {
    return { ...this.count };
  }

  /** An operator that rejects because the signal fired (e.g. an AbortError from ORT) surfaces as CancelledError. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (this.signal?.aborted && !(e instanceof CancelledError)) throw new CancelledError();
      throw e;
    }
  }
}

/**
 * The JacobianOperator of core/geometry, implemented with ORT sessions over the derived graphs of core/onnx:
 * J = ∂h/∂sample at a fixed (x_t, t) of a model folder's U-Net, h = the mid-block output ('auto') unless given.
 *
 * - Derived graph bytes are cached on disk under <data dir>/derived/<sha256 of (model hash, h, K, H, W)>/, so a
 *   model is derived once per machine (derivation of a real U-Net takes seconds); a cache folder whose files do
 *   not parse is re-derived.
 * - Sessions are kept per (model hash, h, K, H, W) and kind, created lazily: the fused `pullback` graph (J·v and
 *   JᵀJ·v with one primal pass) for the basis iterations, `jvp` for U and `vjp` only if someone asks for it.
 *   The primal inputs are fed on every call, so one session serves every (x_t, t).
 * - Every graph has a static tangent count K (the derived K); blocks of any size are cut into chunks of K rows,
 *   the last one zero-padded (zero tangents give zero outputs, which are dropped).
 *
 * The data folder is app/data-dir.ts's (PULLBACK_DATA_DIR or the OS convention); the basis cache lives there too.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createSession } from './sessions';
import { timestepTensor } from './ort-predictor';
import type { ModelFolder } from '../../core/diffusion/model-folder';
import { ModelFolderError } from '../../core/diffusion/errors';
import { deriveGraphs, OnnxDeriveError, type DeriveInfo } from '../../core/onnx';
import type { JacobianOperator } from '../../core/geometry/types';
import { GeometryError } from '../../core/geometry/errors';
import { throwIfCancelled } from '../../core/progress';
import type { Tensor } from '../../core/tensor';
import { sizeOf } from '../../core/tensor';
import { dataDir } from '../../app/data-dir';
import { modelContentHash } from './model-hash';

export type DerivedKind = 'jvp' | 'vjp' | 'pullback';

export interface JacobianSpec {
  model: ModelFolder;
  /** 'auto' (mid block) or a tensor name. */
  h?: string;
  /** Tangent columns per call (static in the graphs). Default 8 (PULLBACK_JACOBIAN_K overrides). */
  K?: number;
}

interface GraphSet {
  key: string;
  dir: string;
  info: DeriveInfo;
  modelDir: string;
  sessions: Partial<Record<DerivedKind, Promise<ort.InferenceSession>>>;
}

/** Largest tangent count per derived-graph call (PULLBACK_JACOBIAN_K, default 8). */
export function defaultJacobianK(): number {
  const env = Number(process.env.PULLBACK_JACOBIAN_K);
  return Number.isInteger(env) && env >= 1 ? env : 8;
}

/**
 * Derived graphs and their sessions, kept across jobs in the worker. One model's set at a time (like
 * ModelCache): switching model or K releases the previous sessions.
 */
export class JacobianSessions {
  private current: GraphSet | null = null;
  /** How many times graphs were derived (not loaded from disk) in this process: for tests and the bench. */
  derivations = 0;

  constructor(private readonly root: () => string = dataDir) {}

  async graphs(spec: JacobianSpec, signal?: AbortSignal): Promise<GraphSet> {
    const modelHash = await modelContentHash(spec.model);
    const K = spec.K ?? defaultJacobianK();
    const h = spec.h ?? 'auto';
    const [, H, W] = spec.model.unet.sampleDims;
    const key = createHash('sha256').update(JSON.stringify({ v: 1, modelHash, h, K, H, W })).digest('hex');
    if (this.current?.key === key) return this.current;
    await this.release();
    throwIfCancelled(signal);
    const dir = join(this.root(), 'derived', key.slice(0, 32));
    const info = await this.loadOrDerive(dir, spec.model, { h, K, H, W });
    this.current = { key, dir, info, modelDir: dirname(spec.model.unet.file), sessions: {} };
    return this.current;
  }

  private async loadOrDerive(dir: string, model: ModelFolder, o: { h: string; K: number; H: number; W: number }): Promise<DeriveInfo> {
    try {
      const info = JSON.parse(await readFile(join(dir, 'derive.json'), 'utf8')) as DeriveInfo;
      // A file that is missing or cut short makes session creation fail later; check sizes recorded at write.
      const sizes = JSON.parse(await readFile(join(dir, 'sizes.json'), 'utf8')) as Record<DerivedKind, number>;
      for (const kind of ['jvp', 'vjp', 'pullback'] as const) {
        if ((await stat(join(dir, `${kind}.onnx`))).size !== sizes[kind]) throw new Error('size mismatch');
      }
      return info;
    } catch {
      // absent or damaged: derive again
    }
    let d;
    try {
      d = await deriveGraphs(model.unet.file, { h: o.h, tangents: o.K, height: o.H, width: o.W });
    } catch (err) {
      if (err instanceof OnnxDeriveError) {
        throw new ModelFolderError('unsupported-model', model.unet.file, `cannot derive the Jacobian graphs (${err.code}): ${err.message}`);
      }
      throw err;
    }
    this.derivations++;
    await rm(dir, { recursive: true, force: true });
    const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
    await mkdir(tmp, { recursive: true });
    const sizes = { jvp: d.jvp.length, vjp: d.vjp.length, pullback: d.pullback.length };
    await writeFile(join(tmp, 'jvp.onnx'), d.jvp);
    await writeFile(join(tmp, 'vjp.onnx'), d.vjp);
    await writeFile(join(tmp, 'pullback.onnx'), d.pullback);
    const { modelDir: _ignored, ...info } = d.info;
    await writeFile(join(tmp, 'derive.json'), JSON.stringify(info));
    await writeFile(join(tmp, 'sizes.json'), JSON.stringify(sizes));
    try {
      await rename(tmp, dir);
    } catch {
      // Another process derived the same graphs meanwhile: theirs are equivalent; drop ours.
      await rm(tmp, { recursive: true, force: true });
    }
    return info as DeriveInfo;
  }

  session(set: GraphSet, kind: DerivedKind): Promise<ort.InferenceSession> {
    let s = set.sessions[kind];
    if (!s) {
      s = createSession(join(set.dir, `${kind}.onnx`), { executionProvider: 'cpu', externalDataFolder: set.modelDir });
      set.sessions[kind] = s;
      s.catch(() => {
        if (set.sessions[kind] === s) delete set.sessions[kind];
      });
    }
    return s;
  }

  async release(): Promise<void> {
    const cur = this.current;
    this.current = null;
    if (!cur) return;
    for (const s of Object.values(cur.sessions)) {
      try {
        await (await s).release();
      } catch {
        // creation failed or already released
      }
    }
  }

  /** The operator J at (x [1, ...x] , timestep). */
  async operator(spec: JacobianSpec, x: Tensor, timestep: number, signal?: AbortSignal): Promise<OrtJacobianOperator> {
    const set = await this.graphs(spec, signal);
    return new OrtJacobianOperator(this, set, spec.model, x, timestep);
  }
}

export class OrtJacobianOperator implements JacobianOperator {
  readonly xDims: readonly number[];
  readonly hDims: readonly number[];
  readonly K: number;
  readonly hTensor: string;
  /** Graph calls made (each runs K columns). */
  calls = 0;
  private readonly feeds: Record<string, ort.Tensor>;

  constructor(
    private readonly owner: JacobianSessions,
    private readonly set: GraphSet,
    model: ModelFolder,
    x: Tensor,
    readonly timestep: number,
  ) {
    const info = set.info;
    this.K = info.K;
    this.hTensor = info.h;
    this.xDims = info.xShape.slice(1);
    this.hDims = info.hShape.slice(1);
    if (x.data.length !== sizeOf(info.xShape)) {
      throw new GeometryError('bad-shape', `x_t has ${x.data.length} values, the model's sample has ${sizeOf(info.xShape)}`);
    }
    this.feeds = {};
    for (const inp of info.inputs) {
      if (inp.name === info.x) this.feeds[inp.name] = new ort.Tensor('float32', x.data, info.xShape);
      // The derived graphs keep the model's timestep input (dtype and rank) at batch 1, as the predictor feeds it.
      else if (inp.name === model.unet.timestepInput) this.feeds[inp.name] = timestepTensor(model.unet, timestep, 1);
      else throw new GeometryError('bad-option', `derived graphs need input "${inp.name}", which unconditional models do not have`);
    }
  }

  private async runChunks(
    kind: DerivedKind,
    input: Tensor,
    inName: 'tangent' | 'cotangent',
    inDims: readonly number[],
    outs: { name: string; dims: readonly number[] }[],
    signal?: AbortSignal,
  ): Promise<Tensor[]> {
    const rowIn = sizeOf(inDims);
    const rows = input.data.length / rowIn;
    if (!Number.isInteger(rows) || rows < 1) {
      throw new GeometryError('bad-shape', `${inName} block has ${input.data.length} values, not a multiple of ${rowIn}`);
    }
    const session = await this.owner.session(this.set, kind);
    const results = outs.map((o) => new Float32Array(rows * sizeOf(o.dims)));
    const K = this.K;
    for (let start = 0; start < rows; start += K) {
      throwIfCancelled(signal);
      const n = Math.min(K, rows - start);
      const chunk = new Float32Array(K * rowIn);
      chunk.set(input.data.subarray(start * rowIn, (start + n) * rowIn));
      const out = await session.run({ ...this.feeds, [inName]: new ort.Tensor('float32', chunk, [K, ...inDims]) });
      this.calls++;
      outs.forEach((o, i) => {
        const y = out[o.name];
        const per = sizeOf(o.dims);
        if (!y || y.data.length !== K * per) {
          throw new GeometryError('operator-output', `derived ${kind} graph returned ${y?.data.length} values for "${o.name}", expected ${K * per}`);
        }
        results[i].set((y.data as Float32Array).subarray(0, n * per), start * per);
      });
    }
    return outs.map((o, i) => ({ dims: [rows, ...o.dims], data: results[i] }));
  }

  async jvp(v: Tensor, signal?: AbortSignal): Promise<Tensor> {
    const [jv] = await this.runChunks('jvp', v, 'tangent', this.xDims, [{ name: 'h_dot', dims: this.hDims }], signal);
    return jv;
  }

  async vjp(u: Tensor, signal?: AbortSignal): Promise<Tensor> {
    const [xb] = await this.runChunks('vjp', u, 'cotangent', this.hDims, [{ name: 'x_bar', dims: this.xDims }], signal);
    return xb;
  }

  async pullback(v: Tensor, signal?: AbortSignal): Promise<{ jv: Tensor; jtjv: Tensor }> {
    const [jv, jtjv] = await this.runChunks(
      'pullback',
      v,
      'tangent',
      this.xDims,
      [
        { name: 'h_dot', dims: this.hDims },
        { name: 'x_bar', dims: this.xDims },
      ],
      signal,
    );
    return { jv, jtjv };
  }
}

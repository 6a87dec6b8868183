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
 * - A float16 U-Net is differentiated through a float32 copy made once under <data dir>/fp32/<model hash>/ (the
 *   weights' values unchanged, every activation and tangent in float32); the forward pass stays the fp16 export.
 * - Sessions run on the forward's execution provider (the spec's device preference, the forward's provider first,
 *   CPU last; providers.ts createWithFallback): a GPU provider that fails to create a graph's session or fails its
 *   first run (a zero-tangent call) falls back to the next, and the operator reports what each graph ran on and why.
 *
 * The data folder is app/data-dir.ts's (PULLBACK_DATA_DIR or the OS convention); the basis cache lives there too.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createSession, type SessionOptions } from './sessions';
import { createWithFallback, jacobianProviderOrder, providerOrder, type FallbackResult } from './providers';
import { availableProvidersHere } from './model-cache';
import type { Provider, ProviderPreference } from '../../shared/api';
import { timestepTensor } from './ort-predictor';
import type { ModelFolder } from '../../core/diffusion/model-folder';
import { ModelFolderError } from '../../core/diffusion/errors';
import { deriveGraphs, OnnxDeriveError, type DeriveInfo } from '../../core/onnx';
import { float32Copy } from '../../core/onnx/fp32-copy';
import type { TimestepElemType } from '../../core/diffusion/model-folder';
import type { JacobianOperator } from '../../core/geometry/types';
import { GeometryError } from '../../core/geometry/errors';
import { isCancelled, throwIfCancelled } from '../../core/progress';
import type { Tensor } from '../../core/tensor';
import { sizeOf } from '../../core/tensor';
import { dataDir } from '../../app/data-dir';
import { modelContentHash } from './model-hash';
import { PinnedCache } from './pinned-cache';
import { currentJobId } from './scheduling';
import { memoryFitK } from './jacobian-memory';
import { writeCacheFiles, writeCacheFolder } from './cache-folder';

export type DerivedKind = 'jvp' | 'vjp' | 'pullback';

export interface JacobianSpec {
  model: ModelFolder;
  /** 'auto' (mid block) or a tensor name. */
  h?: string;
  /** Tangent columns per call (static in the graphs). Default 8 (PULLBACK_JACOBIAN_K overrides). */
  K?: number;
  /** The job's device preference, as the forward's (default 'cpu': the graphs run where the caller says). */
  provider?: ProviderPreference;
  /** The provider the forward U-Net actually runs on, when the caller knows it: tried first. */
  forwardProvider?: Provider;
}

/** What the operator needs of a session: ORT's InferenceSession (tests inject fakes through the factory). */
export type DerivedSession = Pick<ort.InferenceSession, 'run' | 'release'>;
export type DerivedSessionFactory = (file: string, o: SessionOptions) => Promise<DerivedSession>;

export interface JacobianSessionsOptions {
  /** Creates a graph's session; default sessions.ts createSession (the one place ORT sessions are made). */
  createSession?: DerivedSessionFactory;
  /** Providers this process can use, best first, CPU last; default the worker's probed list. */
  availableProviders?: () => Provider[];
  /** The machine's memory in bytes (default os.totalmem()): caps the tangent columns per call (jacobian-memory.ts). */
  totalMemory?: () => number;
}

/** The provider a derived graph runs on, and why the ones before it in the order were skipped. */
export interface JacobianProviderReport {
  provider: Provider;
  fallbackReason?: string;
}

interface GraphSet {
  key: string;
  dir: string;
  info: DeriveInfo;
  modelDir: string;
  /** Per kind and provider order ("pullback|cuda,cpu"): two device preferences may share one set of graphs. */
  sessions: Map<string, Promise<FallbackResult<DerivedSession>>>;
}

/** Largest tangent count per derived-graph call (PULLBACK_JACOBIAN_K, default 8). */
export function defaultJacobianK(): number {
  const env = Number(process.env.PULLBACK_JACOBIAN_K);
  return Number.isInteger(env) && env >= 1 ? env : 8;
}

/**
 * Derived graphs and their sessions, kept across jobs in the worker. One model's set at a time (like
 * ModelCache): switching model or K releases the previous sessions once no running job uses them (pinned-cache.ts).
 */
export class JacobianSessions {
  private readonly sets = new PinnedCache<GraphSet>((set) => releaseSet(set));
  /** How many times graphs were derived (not loaded from disk) in this process: for tests and the bench. */
  derivations = 0;

  private readonly create: DerivedSessionFactory;
  private readonly available: () => Provider[];
  private readonly totalMemory: () => number;

  constructor(
    private readonly root: () => string = dataDir,
    options: JacobianSessionsOptions = {},
  ) {
    this.create = options.createSession ?? createSession;
    this.available = options.availableProviders ?? availableProvidersHere;
    this.totalMemory = options.totalMemory ?? totalmem;
  }

  /** The providers a spec's graphs try, in order (see jacobianProviderOrder). */
  providerOrder(spec: Pick<JacobianSpec, 'provider' | 'forwardProvider'>): Provider[] {
    return jacobianProviderOrder(providerOrder(spec.provider ?? 'cpu', this.available()), spec.forwardProvider);
  }

  async graphs(spec: JacobianSpec, signal?: AbortSignal): Promise<GraphSet> {
    const modelHash = await modelContentHash(spec.model);
    const K = spec.K ?? defaultJacobianK();
    const h = spec.h ?? 'auto';
    const [, H, W] = spec.model.unet.sampleDims;
    // Text models: encoder_hidden_states is a primal-only input of the derived graphs, baked at [1, L, D].
    const cond = spec.model.text ? { name: spec.model.text.conditionInput, dims: [1, spec.model.text.seqLength, spec.model.text.hiddenSize] } : null;
    // v: the derivation rules' version; bumped when they emit different graphs (2: stride-1 Conv adjoints as Conv),
    // so graphs cached on disk by an older version are derived again instead of reused.
    const key = createHash('sha256')
      .update(JSON.stringify(cond ? { v: 2, modelHash, h, K, H, W, cond } : { v: 2, modelHash, h, K, H, W }))
      .digest('hex');
    throwIfCancelled(signal);
    const create = async (): Promise<GraphSet> => {
      const dir = join(this.root(), 'derived', key.slice(0, 32));
      const source = isFloat16(spec.model) ? await this.float32Source(spec.model, modelHash, signal) : { file: spec.model.unet.file, dir: dirname(spec.model.unet.file) };
      const info = await this.loadOrDerive(dir, source.file, spec.model, { h, K, H, W, ...(cond ? { inputDims: { [cond.name]: cond.dims } } : {}) });
      return { key, dir, info, modelDir: source.dir, sessions: new Map() };
    };
    try {
      return await this.sets.get(key, create, currentJobId());
    } catch (err) {
      // Another job's cancel ended the creation this job shared: make it again, under this job's own signal.
      if (isCancelled(err) && !signal?.aborted) return this.sets.get(key, create, currentJobId());
      throw err;
    }
  }

  /** A job ended: graph sessions only it still held are released. */
  jobEnded(jobId: string): Promise<void> {
    return this.sets.unpin(jobId);
  }

  /** The float32 copy of a float16 U-Net, made once per model (content hash) in the data folder. */
  private async float32Source(model: ModelFolder, modelHash: string, signal?: AbortSignal): Promise<{ file: string; dir: string }> {
    const dir = join(this.root(), 'fp32', modelHash.slice(0, 32));
    const file = join(dir, 'model.onnx');
    try {
      const done = JSON.parse(await readFile(join(dir, 'done.json'), 'utf8')) as { modelBytes: number; dataBytes: number };
      if ((await stat(file)).size === done.modelBytes && (await stat(join(dir, 'weights.bin'))).size === done.dataBytes) return { file, dir };
    } catch {
      // absent or damaged: make it again
    }
    try {
      await writeCacheFolder(dir, async (tmp) => {
        const r = await float32Copy(await readFile(model.unet.file), {
          sourceDir: dirname(model.unet.file),
          dataFile: join(tmp, 'weights.bin'),
          dataLocation: 'weights.bin',
          signal,
        });
        await writeFile(join(tmp, 'model.onnx'), r.model);
        await writeFile(join(tmp, 'done.json'), JSON.stringify({ modelBytes: r.model.length, dataBytes: r.dataBytes, converted: r.converted }));
      });
    } catch (err) {
      if (err instanceof OnnxDeriveError) throw new ModelFolderError('unsupported-model', model.unet.file, `cannot make the float32 copy of this float16 U-Net (${err.code}): ${err.message}`);
      throw err;
    }
    return { file, dir };
  }

  private async loadOrDerive(
    dir: string,
    sourceFile: string,
    model: ModelFolder,
    o: { h: string; K: number; H: number; W: number; inputDims?: Record<string, number[]> },
  ): Promise<DeriveInfo> {
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
      d = await deriveGraphs(sourceFile, { h: o.h, tangents: o.K, height: o.H, width: o.W, ...(o.inputDims ? { inputDims: o.inputDims } : {}) });
    } catch (err) {
      if (err instanceof OnnxDeriveError) {
        throw new ModelFolderError('unsupported-model', model.unet.file, `cannot derive the Jacobian graphs (${err.code}): ${err.message}`);
      }
      throw err;
    }
    this.derivations++;
    const sizes = { jvp: d.jvp.length, vjp: d.vjp.length, pullback: d.pullback.length };
    const { modelDir: _ignored, ...info } = d.info;
    await writeCacheFiles(dir, { 'jvp.onnx': d.jvp, 'vjp.onnx': d.vjp, 'pullback.onnx': d.pullback, 'derive.json': JSON.stringify(info), 'sizes.json': JSON.stringify(sizes) });
    return info as DeriveInfo;
  }

  /**
   * The session of one derived graph on the first provider of `order` that creates it and survives a first call
   * (zero tangents at a zero primal point, on GPU providers only, as the forward's warm-up in model-cache.ts).
   */
  session(set: GraphSet, kind: DerivedKind, order: readonly Provider[] = ['cpu']): Promise<FallbackResult<DerivedSession>> {
    const slot = `${kind}|${order.join(',')}`;
    let s = set.sessions.get(slot);
    if (!s) {
      const file = join(set.dir, `${kind}.onnx`);
      s = createWithFallback(order, (ep) => this.create(file, { executionProvider: ep, externalDataFolder: set.modelDir }), {
        firstRun: async (session) => {
          await session.run(warmUpFeeds(set.info, kind));
        },
        release: (session) => session.release(),
      });
      set.sessions.set(slot, s);
      s.catch(() => {
        if (set.sessions.get(slot) === s) set.sessions.delete(slot);
      });
    }
    return s;
  }

  release(): Promise<void> {
    return this.sets.clear();
  }

  /** The operator J at (x [1, ...x], timestep[, condition = a prompt embedding [1, L, D] for text models]). */
  async operator(spec: JacobianSpec, x: Tensor, timestep: number, signal?: AbortSignal, condition?: Tensor): Promise<OrtJacobianOperator> {
    let set = await this.graphs(spec, signal);
    // Fewer columns per call when K of them would not fit in memory (an SD-sized U-Net's attention tangents): the
    // basis makes more calls of fewer columns (it splits its blocks by the operator's K), the same products.
    const K = memoryFitK(set.info.K, set.info.activeElementsPerColumn.largest, await weightBytes(spec.model, set), this.totalMemory());
    if (K < set.info.K) set = await this.graphs({ ...spec, K }, signal);
    return new OrtJacobianOperator(this, set, spec.model, x, timestep, condition, this.providerOrder(spec));
  }
}

/** Bytes of the U-Net's weights the sessions load: its model file and the external data files its graphs reference. */
async function weightBytes(model: ModelFolder, set: GraphSet): Promise<number> {
  const sizes = await Promise.all(
    [model.unet.file, ...set.info.externalData.filter((f) => f !== '').map((f) => join(set.modelDir, f))].map((f) => stat(f).then((s) => s.size, () => 0)),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

async function releaseSet(set: GraphSet): Promise<void> {
  for (const s of set.sessions.values()) {
    try {
      await (await s).session.release();
    } catch {
      // creation failed or already released
    }
  }
}

/** ONNX element types a timestep input can have. */
const ONNX_TIMESTEP: Record<number, TimestepElemType> = { 1: 'float32', 6: 'int32', 7: 'int64', 10: 'float16', 11: 'float64' };

/** A zero tensor of an ONNX element type (the types a derived graph's primal inputs can have). */
function zeroTensor(dtype: number, dims: readonly number[]): ort.Tensor {
  const n = sizeOf(dims);
  switch (dtype) {
    case 1:
      return new ort.Tensor('float32', new Float32Array(n), dims);
    case 6:
      return new ort.Tensor('int32', new Int32Array(n), dims);
    case 7:
      return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case 10:
      return new ort.Tensor('float16', new Uint16Array(n), dims);
    case 11:
      return new ort.Tensor('float64', new Float64Array(n), dims);
    default:
      throw new GeometryError('bad-option', `derived graph input of ONNX element type ${dtype} cannot be warmed up`);
  }
}

/** Feeds of a first call that checks a provider: every primal input and the tangent block at zero. */
export function warmUpFeeds(info: DeriveInfo, kind: DerivedKind): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const inp of info.inputs) feeds[inp.name] = zeroTensor(inp.dtype, inp.dims);
  if (kind === 'vjp') feeds.cotangent = zeroTensor(1, info.cotangentShape);
  else feeds.tangent = zeroTensor(1, info.tangentShape);
  return feeds;
}

/** Whether the U-Net takes float16 samples (an fp16 export). */
function isFloat16(model: ModelFolder): boolean {
  return model.unet.inputs.find((i) => i.name === model.unet.sampleInput)?.elemType === 'float16';
}

export class OrtJacobianOperator implements JacobianOperator {
  readonly xDims: readonly number[];
  readonly hDims: readonly number[];
  readonly K: number;
  readonly hTensor: string;
  /** Graph calls made (each runs K columns). */
  calls = 0;
  /** What the derived graphs ran on (the last graph session used; absent before the first call). */
  provider?: JacobianProviderReport;
  private readonly feeds: Record<string, ort.Tensor>;

  constructor(
    private readonly owner: JacobianSessions,
    private readonly set: GraphSet,
    model: ModelFolder,
    x: Tensor,
    readonly timestep: number,
    condition?: Tensor,
    /** Providers the graphs try, in order (JacobianSessions.providerOrder). */
    private readonly providers: readonly Provider[] = ['cpu'],
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
      // The derived graphs keep the model's timestep input (rank, and dtype — float32 in an fp16 model's copy).
      else if (inp.name === model.unet.timestepInput) this.feeds[inp.name] = timestepTensor({ ...model.unet, timestepType: ONNX_TIMESTEP[inp.dtype] ?? model.unet.timestepType }, timestep, 1);
      else if (model.text && inp.name === model.text.conditionInput) {
        // J is taken at a fixed prompt: its embedding is a primal input, fed on every call like x_t and t.
        if (!condition) throw new GeometryError('bad-option', `the Jacobian of a text-conditioned model needs a prompt embedding for "${inp.name}"`);
        if (condition.data.length !== sizeOf(inp.dims)) {
          throw new GeometryError('bad-shape', `the prompt embedding has ${condition.data.length} values, "${inp.name}" takes [${inp.dims.join(', ')}]`);
        }
        this.feeds[inp.name] = new ort.Tensor('float32', condition.data, inp.dims);
      } else throw new GeometryError('bad-option', `derived graphs need input "${inp.name}", which unconditional models do not have`);
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
    const { session, provider, fallbackReason } = await this.owner.session(this.set, kind, this.providers);
    this.provider = { provider, ...(fallbackReason ? { fallbackReason } : {}) };
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

/**
 * The derived Jacobian sessions follow the forward's execution provider, with CPU fallback (issue 11 item 8), on the
 * real derived graphs of a U-Net fixture. No GPU here: the session factory is injected, and a "GPU" session is ORT's
 * CPU session under another name, or one that fails to be created or fails its first run. The CPU result of the same
 * operator is the oracle: a provider that ran must give the same J·v.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import { loadModelFolder, type ModelFolder } from '../../src-main/core/diffusion/model-folder';
import type { Tensor } from '../../src-main/core/tensor';
import { JacobianSessions, type DerivedSession, type DerivedSessionFactory } from '../../src-main/engine/worker/jacobian-operator';
import { createSession } from '../../src-main/engine/worker/sessions';
import { localBasis } from '../../src-main/engine/jobs/support/local-basis';
import type { Provider } from '../../src-main/shared/api';
import { UNET_FIXTURES, useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('jacobian-providers');
let model: ModelFolder;
let x: Tensor;
let v: Tensor;

/**
 * A factory as ORT would be on a machine with GPU providers: `behaviour[ep]` says what a provider does ('ok': a
 * working session, really ORT's CPU one; 'create': creation throws; 'run': created, but every run throws). `log`
 * records each creation and each run's provider, in order.
 */
function fakeFactory(behaviour: Partial<Record<string, 'ok' | 'create' | 'run'>>, log: string[]): DerivedSessionFactory {
  return async (file, o) => {
    const ep = o.executionProvider;
    log.push(`create ${ep}`);
    const b = ep === 'cpu' ? 'ok' : (behaviour[ep] ?? 'create');
    if (b === 'create') throw new Error(`${ep} provider library not found\nnative trace`);
    const real = await createSession(file, { ...o, executionProvider: 'cpu' });
    const session: DerivedSession = {
      run: (async (...args: Parameters<DerivedSession['run']>) => {
        log.push(`run ${ep}`);
        if (b === 'run') throw new Error(`${ep}: no kernel for ConvTranspose`);
        return real.run(...args);
      }) as DerivedSession['run'],
      release: () => real.release(),
    };
    return session;
  };
}

function sessionsWith(available: Provider[], behaviour: Partial<Record<string, 'ok' | 'create' | 'run'>>, log: string[]): JacobianSessions {
  return new JacobianSessions(() => join(tmp.root, 'data'), { createSession: fakeFactory(behaviour, log), availableProviders: () => available });
}

let cpuJv: Float32Array;

beforeAll(async () => {
  model = await loadModelFolder(await wrapUnet('ddpm_unet2d_op14', tmp.root));
  x = decodeNpy(await readFile(join(UNET_FIXTURES, 'ddpm_unet2d_op14', 'x.npy')));
  const n = x.data.length;
  v = { dims: [2, ...x.dims.slice(1)], data: Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 0.37)) };
  const cpu = new JacobianSessions(() => join(tmp.root, 'data'));
  try {
    cpuJv = (await (await cpu.operator({ model, K: 2 }, x, 500)).jvp(v)).data;
  } finally {
    await cpu.release();
  }
});


describe('Jacobian sessions on the forward provider', () => {
  it('orders the forward provider first, then the rest of its order, CPU last', () => {
    const s = sessionsWith(['cuda', 'webgpu', 'cpu'], {}, []);
    expect(s.providerOrder({ provider: 'auto' })).toEqual(['cuda', 'webgpu', 'cpu']);
    // The forward fell back to WebGPU: the Jacobians start there, and keep CUDA as a later try.
    expect(s.providerOrder({ provider: 'auto', forwardProvider: 'webgpu' })).toEqual(['webgpu', 'cuda', 'cpu']);
    expect(s.providerOrder({ provider: 'webgpu' })).toEqual(['webgpu', 'cpu']);
    expect(s.providerOrder({ provider: 'cpu' })).toEqual(['cpu']);
    // No preference given (tests, callers that predate devices): CPU, as before.
    expect(s.providerOrder({})).toEqual(['cpu']);
  });

  it('runs on the forward provider when it works, with the same J·v as CPU', async () => {
    const log: string[] = [];
    const s = sessionsWith(['cuda', 'cpu'], { cuda: 'ok' }, log);
    try {
      const op = await s.operator({ model, K: 2, provider: 'auto' }, x, 500);
      const jv = await op.jvp(v);
      expect(op.provider).toEqual({ provider: 'cuda' });
      // Created once, checked by one warm-up run, then the real call: no CPU session at all.
      expect(log).toEqual(['create cuda', 'run cuda', 'run cuda']);
      expect(Array.from(jv.data)).toEqual(Array.from(cpuJv));
    } finally {
      await s.release();
    }
  });

  it('falls back to CPU when the provider cannot create the session, and names both', async () => {
    const log: string[] = [];
    const s = sessionsWith(['cuda', 'cpu'], { cuda: 'create' }, log);
    try {
      const op = await s.operator({ model, K: 2, provider: 'auto' }, x, 500);
      const jv = await op.jvp(v);
      expect(op.provider?.provider).toBe('cpu');
      expect(op.provider?.fallbackReason).toBe('cuda: cuda provider library not found');
      expect(log).toEqual(['create cuda', 'create cpu', 'run cpu']);
      expect(Array.from(jv.data)).toEqual(Array.from(cpuJv));
    } finally {
      await s.release();
    }
  });

  it('falls back to CPU when the provider fails its first run, once per graph', async () => {
    const log: string[] = [];
    const s = sessionsWith(['webgpu', 'cpu'], { webgpu: 'run' }, log);
    try {
      const op = await s.operator({ model, K: 2, provider: 'auto' }, x, 500);
      await op.jvp(v);
      const jv = await op.jvp(v);
      expect(op.provider).toEqual({ provider: 'cpu', fallbackReason: 'webgpu: first run failed: webgpu: no kernel for ConvTranspose' });
      // The failed provider is tried once: the second call reuses the CPU session.
      expect(log).toEqual(['create webgpu', 'run webgpu', 'create cpu', 'run cpu', 'run cpu']);
      expect(Array.from(jv.data)).toEqual(Array.from(cpuJv));
    } finally {
      await s.release();
    }
  });

  it('stays on CPU on a CPU-only machine, with no warm-up run', async () => {
    const log: string[] = [];
    const s = sessionsWith(['cpu'], {}, log);
    try {
      const op = await s.operator({ model, K: 2, provider: 'auto' }, x, 500);
      await op.jvp(v);
      expect(op.provider).toEqual({ provider: 'cpu' });
      expect(log).toEqual(['create cpu', 'run cpu']);
    } finally {
      await s.release();
    }
  });

  it('reports the provider in the basis stats, and none for a cache hit', async () => {
    const log: string[] = [];
    const s = sessionsWith(['cuda', 'cpu'], { cuda: 'run' }, log);
    try {
      const req = { k: 2, method: 'krylov' as const, basisSeed: 3, h: 'auto', provider: 'auto' as const };
      const first = await localBasis(s, model, x, 500, req);
      expect(first.stats.cacheHit).toBe(false);
      expect(first.stats.jacobianProvider).toBe('cpu');
      expect(first.stats.jacobianFallbackReason).toMatch(/^cuda: first run failed: cuda: no kernel/);
      const again = await localBasis(s, model, x, 500, req);
      expect(again.stats.cacheHit).toBe(true);
      expect(again.stats.jacobianProvider).toBeUndefined();
    } finally {
      await s.release();
    }
  });
});

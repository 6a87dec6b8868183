import { describe, expect, it } from 'vitest';
import { availableProviders, createWithFallback, jacobianProviderOrder, missingPrerequisite, platformProviders, providerOrder, usableProviders } from '../../../src-main/engine/worker/providers';
import { toApiError } from '../../../src-main/engine/errors';
import { ModelFolderError } from '../../../src-main/core/diffusion/errors';
import { CancelledError } from '../../../src-main/core/progress';

describe('execution provider selection', () => {
  it('offers per-platform GPU providers only where ORT lists them, CPU always last', () => {
    const linux = [{ name: 'cpu' }, { name: 'webgpu' }, { name: 'cuda' }];
    expect(availableProviders('linux', 'x64', linux)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(availableProviders('linux', 'arm64', linux)).toEqual(['webgpu', 'cpu']);
    expect(availableProviders('win32', 'x64', [{ name: 'cpu' }, { name: 'dml' }])).toEqual(['dml', 'cpu']);
    expect(availableProviders('darwin', 'arm64', [{ name: 'cpu' }, { name: 'coreml' }])).toEqual(['coreml', 'cpu']);
    expect(availableProviders('linux', 'x64', [{ name: 'cpu' }])).toEqual(['cpu']);
    expect(platformProviders('win32', 'x64')).not.toContain('cuda');
  });
  it('skips WebGPU on Linux without the Vulkan loader (Dawn would print a native warning), and nothing else', () => {
    const none = () => false;
    const only = (path: string) => (p: string) => p === path;
    expect(missingPrerequisite('webgpu', 'linux', none, ['/usr/lib'])).toMatch(/Vulkan loader/);
    expect(missingPrerequisite('webgpu', 'linux', only('/usr/lib/libvulkan.so.1'), ['/usr/lib'])).toBeNull();
    expect(missingPrerequisite('webgpu', 'linux', only('/opt/vk/libvulkan.so.1'), ['/opt/vk', '/usr/lib'])).toBeNull();
    expect(missingPrerequisite('webgpu', 'win32', none, [])).toBeNull();
    expect(missingPrerequisite('webgpu', 'darwin', none, [])).toBeNull();
    expect(missingPrerequisite('cuda', 'linux', none, [])).toBeNull();
  });
  it('orders by preference', () => {
    expect(providerOrder('auto', ['cuda', 'webgpu', 'cpu'])).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providerOrder('webgpu', ['cuda', 'webgpu', 'cpu'])).toEqual(['webgpu', 'cpu']);
    expect(providerOrder('dml', ['cuda', 'cpu'])).toEqual(['cpu']);
    expect(providerOrder('cpu', ['cuda', 'cpu'])).toEqual(['cpu']);
  });
  it('falls back to CPU and reports which provider was used and why', async () => {
    const tried: string[] = [];
    const r = await createWithFallback(['cuda', 'webgpu', 'cpu'], async (ep) => {
      tried.push(ep);
      if (ep !== 'cpu') throw new Error(`${ep} library missing\nlong native trace`);
      return { ep };
    });
    expect(tried).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(r.provider).toBe('cpu');
    expect(r.fallbackReason).toBe('cuda: cuda library missing; webgpu: webgpu library missing');
    const ok = await createWithFallback(['webgpu', 'cpu'], async (ep) => ({ ep }));
    expect(ok).toEqual({ session: { ep: 'webgpu' }, provider: 'webgpu' });
    await expect(createWithFallback(['cpu'], async () => Promise.reject(new Error('cpu broke')))).rejects.toThrow('cpu broke');
  });
  it('falls back when a GPU session fails its first run, releases it, and never checks CPU', async () => {
    const events: string[] = [];
    const check = {
      firstRun: async (s: { ep: string }) => {
        events.push(`run ${s.ep}`);
        if (s.ep === 'cuda') throw new Error('no kernel for Einsum\nat onnxruntime/core/...');
      },
      release: async (s: { ep: string }) => void events.push(`release ${s.ep}`),
    };
    const r = await createWithFallback(['cuda', 'webgpu', 'cpu'], async (ep) => ({ ep }), check);
    expect(r).toEqual({ session: { ep: 'webgpu' }, provider: 'webgpu', fallbackReason: 'cuda: first run failed: no kernel for Einsum' });
    expect(events).toEqual(['run cuda', 'release cuda', 'run webgpu']);
    events.length = 0;
    expect((await createWithFallback(['cpu'], async (ep) => ({ ep }), check)).provider).toBe('cpu');
    expect(events).toEqual([]);
  });
  it('orders the Jacobian providers: the forward one first, the rest of its order, CPU last, each once', () => {
    expect(jacobianProviderOrder(['cuda', 'webgpu', 'cpu'])).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(jacobianProviderOrder(['cuda', 'webgpu', 'cpu'], 'webgpu')).toEqual(['webgpu', 'cuda', 'cpu']);
    expect(jacobianProviderOrder(['cpu'], 'cpu')).toEqual(['cpu']);
    expect(jacobianProviderOrder(['dml', 'cpu'], 'cpu')).toEqual(['dml', 'cpu']);
  });
});

describe('toApiError', () => {
  it('maps core errors to typed payloads without stacks', () => {
    expect(toApiError(new ModelFolderError('bad-onnx', '/m/unet/model.onnx', 'truncated'))).toEqual({
      code: 'bad-onnx',
      message: '/m/unet/model.onnx: truncated',
      file: '/m/unet/model.onnx',
    });
    expect(toApiError(new CancelledError())).toEqual({ code: 'cancelled', message: 'cancelled' });
    expect(toApiError(new TypeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toApiError('weird')).toEqual({ code: 'internal', message: 'weird' });
  });
});

describe('usableProviders (what the Device menu offers)', () => {
  it('keeps the GPU providers whose probe works, in order, and always CPU; a throwing probe counts as not working', async () => {
    const tried: string[] = [];
    const works = async (ep: string) => {
      tried.push(ep);
      if (ep === 'dml') throw new Error('driver crashed');
      return ep === 'webgpu';
    };
    expect(await usableProviders(['dml', 'webgpu', 'cpu'], works)).toEqual(['webgpu', 'cpu']);
    expect(tried).toEqual(['dml', 'webgpu']);
    expect(await usableProviders(['cuda', 'webgpu', 'cpu'], async () => false)).toEqual(['cpu']);
    expect(await usableProviders(['cpu'], async () => true)).toEqual(['cpu']);
  });
});

describe('providerWorks on this machine', () => {
  it('CPU runs the probe graph; an unknown provider name does not', async () => {
    const { providerWorks } = await import('../../../src-main/engine/worker/sessions');
    expect(await providerWorks('cpu')).toBe(true);
    expect(await providerWorks('no-such-provider')).toBe(false);
  });
});

describe('probeProvidersHere (the worker reports these when ready)', () => {
  it('offers exactly the build’s providers that run on this machine, CPU last', async () => {
    const { probeProvidersHere } = await import('../../../src-main/engine/worker/model-cache');
    const { providerWorks, supportedBackends } = await import('../../../src-main/engine/worker/sessions');
    const offered = await probeProvidersHere();
    expect(offered.at(-1)).toBe('cpu');
    // The app's provider names are ORT's for every provider a platform lists (providers.ts ORT_NAME).
    for (const p of availableProviders(process.platform, process.arch, supportedBackends())) {
      expect(offered.includes(p)).toBe(await providerWorks(p));
    }
  });
});

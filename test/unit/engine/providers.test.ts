import { describe, expect, it } from 'vitest';
import { availableProviders, createWithFallback, platformProviders, providerOrder } from '../../../src-main/engine/worker/providers';
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

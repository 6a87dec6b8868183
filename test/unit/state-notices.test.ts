/**
 * Notices: the last few stay, info and warnings fade after a while, errors wait for the user (only the last three),
 * failures by error code.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_ERRORS, MAX_NOTICES, NOTICE_MS, Notices } from '../../src-renderer/src/lib/state/notices.svelte';
import { ApiError } from '../../src-main/shared/errors';
import { describeCode } from '../../src-renderer/src/lib/errors';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Notices', () => {
  it('keeps the newest few', () => {
    const n = new Notices();
    for (let i = 1; i <= MAX_NOTICES + 2; i++) n.notify('warning', `w${i}`);
    expect(n.list.map((x) => x.text)).toEqual(['w3', 'w4', 'w5', 'w6']);
    expect(new Set(n.list.map((x) => x.id)).size).toBe(MAX_NOTICES);
  });

  it('dismisses info and warning notices after a while; errors stay until dismissed', () => {
    const n = new Notices();
    n.notify('info', 'fades');
    n.notify('warning', 'fades too');
    n.notify('error', 'stays', 'detail', 'internal');
    vi.advanceTimersByTime(NOTICE_MS - 1);
    expect(n.list).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(n.list.map((x) => x.text)).toEqual(['stays']);
    vi.advanceTimersByTime(60_000);
    expect(n.list).toHaveLength(1);
    expect(n.list.map((x) => [x.kind, x.text, x.detail, x.code])).toEqual([['error', 'stays', 'detail', 'internal']]);
    n.dismiss(n.list[0].id);
    expect(n.list).toEqual([]);
  });

  it('shows at most the last three errors, and a newer notice beside them', () => {
    const n = new Notices();
    for (let i = 1; i <= 5; i++) n.notify('error', `e${i}`);
    expect(MAX_ERRORS).toBe(3);
    expect(n.list.map((x) => x.text)).toEqual(['e3', 'e4', 'e5']);
    n.notify('info', 'i1');
    expect(n.list.map((x) => x.text)).toEqual(['e3', 'e4', 'e5', 'i1']);
    n.notify('error', 'e6');
    expect(n.list.map((x) => x.text)).toEqual(['e4', 'e5', 'i1', 'e6']);
  });

  it('reports a failure by its code, and a cancel as info', () => {
    const n = new Notices();
    expect(n.fail(new ApiError({ code: 'cancelled', message: 'cancelled' }), 'Rendering')).toBeNull();
    const shown = n.fail(new ApiError({ code: 'missing-file', message: '/m/unet/model.onnx: missing' }), 'Opening the model');
    expect(shown).toEqual({ code: 'missing-file', title: describeCode('missing-file'), detail: '/m/unet/model.onnx: missing' });
    expect(n.list.map((x) => [x.kind, x.text, x.detail, x.code])).toEqual([
      ['info', 'Rendering: cancelled', undefined, undefined],
      ['error', `Opening the model failed. ${describeCode('missing-file')}`, '/m/unet/model.onnx: missing', 'missing-file'],
    ]);
  });
});

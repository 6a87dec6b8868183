/**
 * The editor refuses a picture the engine would refuse before sending it (issue 14): over MAX_IMAGE_BYTES (it would
 * not fit in one WebSocket message nor in the project saves that carry it) or not PNG/JPEG/WebP by its bytes. The
 * notice names the typed code's message and the size; no job starts and no unsaved-work question is asked. The
 * Analyze workspace's picture import refuses the same way.
 */
import { describe, expect, it } from 'vitest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { describeCode } from '../../src-renderer/src/lib/errors';
import { MAX_IMAGE_BYTES } from '../../src-main/shared/image-limits';
import { ApiError } from '../../src-main/shared/errors';
import { fakeApi, png } from './state-fake-api';

async function editor() {
  const f = fakeApi();
  const ed = new EditorState(f.api);
  await ed.load();
  f.calls.length = 0;
  return { ed, ...f };
}

describe('image import limits in the renderer', () => {
  it('a picture over 48 MiB is refused before any job, with the size in the notice', async () => {
    const { ed, calls } = await editor();
    const big = new Uint8Array(MAX_IMAGE_BYTES + 1024 * 1024);
    big.set(png(1));
    await ed.importFile('huge.png', big);
    expect(calls).toEqual([]);
    expect(ed.guard.prompt).toBeNull();
    const n = ed.notices.list.at(-1)!;
    expect(n).toMatchObject({ kind: 'error', code: 'image-too-large' });
    expect(n.text).toContain(describeCode('image-too-large'));
    expect(n.detail).toContain('49 MiB');
    expect(n.detail).toContain('at most 48 MiB');
  });

  it('SVG or GIF bytes are refused as unsupported-image whatever the file is called', async () => {
    const { ed, calls } = await editor();
    await ed.invertImage('drawing.png', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'));
    await ed.importFile('anim.png', new TextEncoder().encode('GIF89a\x01\x00\x01\x00'));
    expect(calls).toEqual([]);
    expect(ed.notices.list.map((n) => n.code)).toEqual(['unsupported-image', 'unsupported-image']);
  });

  it('the Analyze workspace refuses the same pictures, typed, before a job', async () => {
    const { ed, calls } = await editor();
    const err = await ed.analysis.importImage('anim.gif', new TextEncoder().encode('GIF89a\x01\x00'), '/m', ed.model.provider).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('unsupported-image');
    expect(calls).toEqual([]);
  });

  it('a picture at the cap goes to the engine', async () => {
    const { ed, calls } = await editor();
    const atCap = new Uint8Array(MAX_IMAGE_BYTES);
    atCap.set(png(1));
    // The fake engine has no invert job: reaching it is what this checks.
    await ed.importFile('ok.png', atCap);
    expect(calls.map((c) => c.name)).toEqual(['invert']);
  });
});

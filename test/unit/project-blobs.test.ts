/**
 * Project saves carry their images as bytes (issue 14): the renderer sends Uint8Array blobs (a binary WebSocket frame,
 * or Electron's structured clone), the save schema takes them as they are, and no base64 is built or parsed for a
 * save. Copies the page keeps in localStorage (text only) stay base64 and are still accepted. A blob is capped at the
 * import cap, so every picture that can be imported can be saved, and nothing bigger reaches the disk.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { LocalRecovery, type StorageLike } from '../../src-renderer/src/lib/state/local-recovery';
import { ProjectService } from '../../src-main/app/project-service';
import { ProjectRequestSchema, type OpenedProject, type ProjectEntry } from '../../src-main/shared/project-api';
import { decodeFrame, encodeFrame } from '../../src-main/shared/frame';
import { MAX_IMAGE_BYTES } from '../../src-main/shared/image-limits';
import { ApiError } from '../../src-main/shared/errors';
import { fakeApi } from './state-fake-api';

async function document() {
  const f = fakeApi();
  const ed = new EditorState(f.api);
  await ed.load();
  ed.source.seed = 42;
  ed.source.steps = 10;
  await ed.newFromSeed();
  const c = (await ed.files.content())!;
  return { ed, f, c };
}

function memoryStorage(): StorageLike {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    key: (i) => [...m.keys()][i] ?? null,
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

describe('project blobs travel as bytes', () => {
  it('the renderer saves Uint8Array blobs, never base64 strings', async () => {
    const { ed, f, c } = await document();
    expect(Object.values(c.blobs).length).toBeGreaterThan(0);
    for (const b of Object.values(c.blobs)) expect(b).toBeInstanceOf(Uint8Array);
    f.projectCalls.length = 0;
    await ed.files.saveAs({ name: 'p' });
    const save = f.projectCalls.find((r) => r.op === 'save') as { blobs: Record<string, unknown> };
    for (const b of Object.values(save.blobs)) expect(b).toBeInstanceOf(Uint8Array);
    // What the main process validates: the request as the renderer built it.
    expect(ProjectRequestSchema.safeParse(save).success).toBe(true);
  });

  it('over the WebSocket the save is one binary frame about the size of its images, and parses on the other side', async () => {
    const { c } = await document();
    const req = { op: 'save' as const, name: 'p', ...c };
    const frame = encodeFrame({ id: 1, method: 'project', args: [req] });
    const imageBytes = Object.values(c.blobs).reduce((s, b) => s + b.length, 0);
    const manifestBytes = JSON.stringify(c.manifest).length;
    // base64 would add a third of the image bytes; a binary frame adds only the header.
    expect(frame.length).toBeLessThan(imageBytes + manifestBytes + 1024);
    const back = decodeFrame(frame) as { args: unknown[] };
    const parsed = ProjectRequestSchema.parse(back.args[0]) as { blobs: Record<string, Uint8Array> };
    for (const [h, b] of Object.entries(c.blobs)) expect(Buffer.from(parsed.blobs[h]).equals(Buffer.from(b))).toBe(true);
  });

  it('the project service saves byte blobs and opens the same bytes; a blob over the import cap is invalid-input', async () => {
    const { c } = await document();
    const dataDir = mkdtempSync(join(tmpdir(), 'pbblobs-'));
    const svc = new ProjectService({ dataDir, modelExists: () => true });
    const entry = (await svc.handle({ op: 'save', name: 'bytes', ...c })) as ProjectEntry;
    const opened = (await svc.handle({ op: 'open', id: entry.id })) as OpenedProject;
    for (const [h, b] of Object.entries(c.blobs)) expect(Buffer.from(opened.blobs[h]).equals(Buffer.from(b))).toBe(true);

    const [h] = Object.keys(c.blobs);
    const tooBig = { ...c.blobs, [h]: new Uint8Array(MAX_IMAGE_BYTES + 1) };
    const err = await svc.handle({ op: 'save', name: 'big', manifest: c.manifest, blobs: tooBig }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid-input');
    // At the cap the schema takes it (the import cap and the save cap agree).
    expect(ProjectRequestSchema.safeParse({ op: 'save', name: 'cap', manifest: c.manifest, blobs: { ...c.blobs, [h]: new Uint8Array(MAX_IMAGE_BYTES) } }).success).toBe(true);
  });

  it('a copy kept in the page storage is base64 and the service still takes it', async () => {
    const { c } = await document();
    const local = new LocalRecovery(memoryStorage());
    local.put({ session: 's-1', title: 'Untitled', content: c });
    const [kept] = local.all();
    for (const b of Object.values(kept.content.blobs)) expect(typeof b).toBe('string');
    const dataDir = mkdtempSync(join(tmpdir(), 'pbblobs-'));
    const svc = new ProjectService({ dataDir, modelExists: () => true });
    await svc.handle({ op: 'autosave', session: kept.session, title: kept.title, ...kept.content });
    const opened = (await svc.handle({ op: 'recovery.open', session: 's-1' })) as OpenedProject;
    for (const [h, b] of Object.entries(c.blobs)) expect(Buffer.from(opened.blobs[h]).equals(Buffer.from(b))).toBe(true);
  });
});

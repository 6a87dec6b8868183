/**
 * The main-process project service: web-mode ids are names inside the projects folder (never paths), saves and
 * reopens round-trip, recovery slots list/open/discard, a missing model and a corrupt file give typed errors, and the
 * previous good copy survives a corrupt overwrite attempt.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProjectService } from '../../src-main/app/project-service';
import { ApiError } from '../../src-main/shared/errors';
import { sha256Hex, PROJECT_FORMAT_VERSION, type ProjectManifest } from '../../src-main/core/project';
import type { OpenedProject, ProjectEntry, ProjectReplies } from '../../src-main/shared/project-api';

function setup(modelOk = true) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pbsvc-'));
  const svc = new ProjectService({ dataDir, modelExists: () => modelOk });
  const png = new Uint8Array([137, 80, 78, 71, 1, 2, 3, 4, 5]);
  const h = sha256Hex(png);
  const state = { timestep: 600, edits: [] };
  const manifest: ProjectManifest = {
    format: 'pullback-project',
    formatVersion: PROJECT_FORMAT_VERSION,
    appVersion: '0.1.0',
    createdAt: 'a',
    modifiedAt: 'b',
    model: { name: 'avatars64', dir: '/m/avatars64' },
    source: { kind: 'seed', seed: 5, steps: 10 },
    state,
    bases: [],
    history: { entries: [{ label: 'New', state }], index: 0 },
    images: { result: h },
  };
  return { dataDir, svc, png, h, manifest, blobs: { [h]: Buffer.from(png).toString('base64') } };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return (err as ApiError).code;
  }
}

describe('project service', () => {
  it('saves under a name, lists it, reopens the same bytes', async () => {
    const { svc, manifest, blobs, png, h, dataDir } = setup();
    const saved = (await svc.handle({ op: 'save', name: 'My portrait', manifest, blobs })) as ProjectEntry;
    expect(saved).toMatchObject({ id: 'w:My portrait', name: 'My portrait' });
    const list = (await svc.handle({ op: 'list' })) as ProjectReplies['list'];
    expect(list.projects.map((p) => p.id)).toEqual(['w:My portrait']);
    expect(list.recent.map((p) => p.id)).toEqual(['w:My portrait']);
    expect(list.canPick).toBe(false);
    const opened = (await svc.handle({ op: 'open', id: saved.id })) as OpenedProject;
    expect(opened.manifest).toEqual(manifest);
    expect(Buffer.from(opened.blobs[h]).equals(Buffer.from(png))).toBe(true);
    // Nothing outside the projects folder was written except the recent list.
    expect(JSON.parse(readFileSync(join(dataDir, 'recent-projects.json'), 'utf8'))[0].path).toBe(resolve(dataDir, 'projects', 'My portrait.pbproj'));
  });

  it('refuses names and ids that could reach outside the projects folder', async () => {
    const { svc, manifest, blobs } = setup();
    for (const name of ['../evil', 'a/b', '..', '.hidden', 'c:\\x', '']) {
      expect(await code(svc.handle({ op: 'save', name, manifest, blobs }))).toBe('invalid-input');
    }
    expect(await code(svc.handle({ op: 'open', id: 'w:../../etc/passwd' }))).toBe('project-not-found');
    expect(await code(svc.handle({ op: 'open', id: 'p:unknown' }))).toBe('project-not-found');
    expect(await code(svc.handle({ op: 'open', id: '/etc/passwd' }))).toBe('project-not-found');
    expect(await code(svc.handle({ op: 'pickOpen' }))).toBe('not-supported');
    expect(await code(svc.handle({ op: 'nope' }))).toBe('invalid-input');
  });

  it('a project whose model is gone says which model it needs', async () => {
    const { dataDir, manifest, blobs } = setup();
    await new ProjectService({ dataDir, modelExists: () => true }).handle({ op: 'save', name: 'p', manifest, blobs });
    const gone = new ProjectService({ dataDir, modelExists: () => false });
    try {
      await gone.handle({ op: 'open', id: 'w:p' });
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).code).toBe('project-missing-model');
      expect((err as ApiError).message).toContain('avatars64');
    }
  });

  it('a corrupt file is project-corrupt and its .bak still opens', async () => {
    const { svc, dataDir, manifest, blobs } = setup();
    await svc.handle({ op: 'save', name: 'p', manifest, blobs });
    await svc.handle({ op: 'save', id: 'w:p', manifest: { ...manifest, modifiedAt: 'c' }, blobs });
    const file = join(dataDir, 'projects', 'p.pbproj');
    writeFileSync(file, readFileSync(file).subarray(0, 40)); // damaged behind our back
    expect(await code(svc.handle({ op: 'open', id: 'w:p' }))).toBe('project-corrupt');
    copyFileSync(`${file}.bak`, join(dataDir, 'projects', 'p restored.pbproj'));
    const back = (await svc.handle({ op: 'open', id: 'w:p restored' })) as OpenedProject;
    expect(back.manifest.modifiedAt).toBe('b');
  });

  it('a newer-version project opens read-only and cannot be saved over, only saved as', async () => {
    const { svc, dataDir, manifest, blobs } = setup();
    mkdirSync(join(dataDir, 'projects'), { recursive: true });
    copyFileSync(resolve(import.meta.dirname, '..', 'fixtures', 'projects', 'v4-future.pbproj'), join(dataDir, 'projects', 'future.pbproj'));
    const before = readFileSync(join(dataDir, 'projects', 'future.pbproj'));
    const p = (await svc.handle({ op: 'open', id: 'w:future' })) as OpenedProject;
    expect(p.readOnly).toBe(true);
    expect(await code(svc.handle({ op: 'save', id: 'w:future', manifest, blobs }))).toBe('project-read-only');
    expect(readFileSync(join(dataDir, 'projects', 'future.pbproj')).equals(before)).toBe(true);
    expect(await code(svc.handle({ op: 'save', name: 'future copy', manifest, blobs }))).toBe('resolved');
  });

  it('autosave goes to a recovery slot that lists, opens and discards', async () => {
    const { svc, manifest, blobs, dataDir } = setup();
    mkdirSync(join(dataDir, 'projects'), { recursive: true });
    await svc.handle({ op: 'autosave', session: 's-1', title: 'Untitled', manifest, blobs });
    const list = (await svc.handle({ op: 'recovery.list' })) as ProjectReplies['recovery.list'];
    expect(list.map((r) => [r.session, r.title])).toEqual([['s-1', 'Untitled']]);
    const rec = (await svc.handle({ op: 'recovery.open', session: 's-1' })) as OpenedProject;
    expect(rec.id).toBeNull();
    expect(rec.manifest).toEqual(manifest);
    await svc.handle({ op: 'recovery.discard', session: 's-1' });
    expect(await svc.handle({ op: 'recovery.list' })).toEqual([]);
    expect(await code(svc.handle({ op: 'recovery.open', session: '../x' }))).toBe('invalid-input');
  });
});

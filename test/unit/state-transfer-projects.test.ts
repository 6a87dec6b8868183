/**
 * Saved projects as transfer targets (issue 13 item 3, "other documents"): a seed project on this document's DDIM
 * path joins as its seed (exact x_t), any other as its unedited picture (inverted), another model's is refused; the
 * panel's state adds each once and says why a picture stands in for a seed.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { Notices } from '../../src-renderer/src/lib/state/notices.svelte';
import { TransferState } from '../../src-renderer/src/lib/state/transfer.svelte';
import { projectTarget } from '../../src-renderer/src/lib/state/transfer-projects';
import type { OpenedProject } from '../../src-main/shared/project-api';
import { PROJECT_FORMAT, PROJECT_FORMAT_VERSION, type ProjectManifest } from '../../src-main/shared/project-manifest';
import { ScriptedApi } from '../helpers/scripted-api';
import { TRANSFER_SOURCE } from '../helpers/transfer-source';

const PNG = new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } }).png().toBuffer());
const PICTURE = 'a'.repeat(64);

function project(name: string, source: ProjectManifest['source'], o: { modelDir?: string; picture?: boolean } = {}): OpenedProject {
  const manifest: ProjectManifest = {
    format: PROJECT_FORMAT,
    formatVersion: PROJECT_FORMAT_VERSION,
    appVersion: 'test',
    createdAt: '2026-12-02T00:00:00Z',
    modifiedAt: '2026-12-02T00:00:00Z',
    model: { name: 'avatars64', dir: o.modelDir ?? '/m' },
    source,
    state: { timestep: null, edits: [] },
    bases: [],
    history: { entries: [], index: 0 },
    images: o.picture === false ? {} : { source: PICTURE },
  };
  return { id: name, name, manifest, blobs: o.picture === false ? {} : { [PICTURE]: PNG }, readOnly: false, fromVersion: PROJECT_FORMAT_VERSION };
}

const doc = { modelDir: '/m', steps: 10 };

describe('projectTarget', () => {
  it('a seed project on the same path is its seed', () => {
    expect(projectTarget(project('p', { kind: 'seed', seed: 7, steps: 10 }), doc)).toEqual({ kind: 'seed', seed: 7 });
  });
  it('a seed project with other steps or another prompt is its picture, and says why', () => {
    const steps = projectTarget(project('p', { kind: 'seed', seed: 7, steps: 50 }), doc);
    expect(steps).toMatchObject({ kind: 'image', name: 'p.png', bytes: PNG, why: 'seed 7 at 50 DDIM steps, this document has 10' });
    const text = projectTarget(project('q', { kind: 'seed', seed: 7, steps: 10, prompt: 'a cat' }), { ...doc, text: { prompt: 'a dog' } });
    expect(text).toMatchObject({ kind: 'image', why: 'seed 7 with another prompt' });
    // The same prompt (the default guidance written out or not) keeps the seed.
    expect(projectTarget(project('r', { kind: 'seed', seed: 7, steps: 10, prompt: 'a dog', guidanceScale: 7.5 }), { ...doc, text: { prompt: 'a dog' } })).toEqual({ kind: 'seed', seed: 7 });
  });
  it('an imported picture is its picture; another model or no picture is refused', () => {
    expect(projectTarget(project('p', { kind: 'image', blob: PICTURE, name: 'cat.png', steps: 10 }), doc)).toMatchObject({ kind: 'image', why: 'an imported picture' });
    expect(projectTarget(project('p', { kind: 'seed', seed: 1, steps: 10 }, { modelDir: '/other' }), doc)).toMatchObject({ kind: 'refused', problem: expect.stringMatching(/another|not this document/) });
    expect(projectTarget(project('p', { kind: 'seed', seed: 1, steps: 20 }, { picture: false }), doc)).toEqual({ kind: 'refused', problem: '“p” has no saved picture to transfer to' });
  });
});


describe('TransferState.addProject', () => {
  it('adds a seed once, a picture with a note, and refuses another model with a warning', async () => {
    const saved = [project('s7', { kind: 'seed', seed: 7, steps: 10 }), project('s9-50', { kind: 'seed', seed: 9, steps: 50 }), project('other', { kind: 'seed', seed: 3, steps: 10 }, { modelDir: '/x' })];
    const notices = new Notices();
    const transfer = new TransferState({
      jobs: new JobsState(new ScriptedApi()),
      notices,
      source: () => TRANSFER_SOURCE,
      projects: { list: async () => saved.map((p) => ({ id: p.id!, name: p.name, when: '' })), open: async (id) => saved.find((p) => p.id === id)! },
    });
    await transfer.listProjects();
    expect(transfer.projects.map((p) => p.name)).toEqual(['s7', 's9-50', 'other']);
    transfer.seedsText = '3';
    await transfer.addProject('s7');
    await transfer.addProject('s7');
    expect(transfer.seeds).toEqual([3, 7]);
    await transfer.addProject('s9-50');
    expect(transfer.images.map((i) => i.name)).toEqual(['s9-50.png']);
    expect(notices.list.at(-1)).toMatchObject({ kind: 'info', text: 's9-50 joins as its picture (inverted first).' });
    await transfer.addProject('other');
    expect(notices.list.at(-1)).toMatchObject({ kind: 'warning', text: 'other cannot be a target.' });
    expect(transfer.seeds).toEqual([3, 7]);
    expect(transfer.images).toHaveLength(1);
  });
});

/**
 * Apply in the editor renders exactly what `pullback edit` renders with the same parameters (issue 13): the real
 * EditorState (its Advanced controls, its Apply and the job input it builds with shared/edit-job.ts) runs its jobs on
 * the engine in this process (the host's encoding, so the PNG bytes are what a window receives), and the CLI runs
 * as a user runs it. Both on the bundled model, in guidance mode and in move mode, with n, s, δ, t_boost and the
 * render steps changed from their defaults. The PNG bytes must be identical.
 */
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { seededInProcessEditor } from '../helpers/seeded-editor';
import { pullbackCli } from '../helpers/cli';
import { useTempDataDir } from './basis-fixture';

const tmp = useTempDataDir('apply-vs-cli');
const pullback = pullbackCli(() => join(tmp.root, 'data'));

describe('Apply = pullback edit', () => {
  it('same PNG bytes in guidance and move mode with n, s, δ, t_boost and render steps changed', async () => {
    const modelDir = defaultModelDir();
    const ed = await seededInProcessEditor(modelDir, { seed: 3, steps: 10 });
    expect(ed.model.dir).toBe(modelDir);
    ed.galleries.k = 2;
    ed.edits.setParam('previewSteps', 2); // the gallery only has to exist; its previews are not compared
    await ed.computeBasis();
    expect(ed.galleries.current?.status).toBe('done');
    ed.addDirection(1);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, 1.5);
    ed.edits.setParam('guidanceSteps', 6);
    ed.edits.setParam('scale', 0.15);
    ed.edits.setParam('delta', 0.5);
    ed.edits.setParam('boostFraction', 0.3);
    ed.edits.setParam('renderSteps', 12);
    await ed.apply();
    expect(ed.notices.list.filter((x) => x.kind === 'error')).toEqual([]);
    const guided = ed.result.image!.bytes;
    const timestep = String(ed.edits.timestep);

    const at = ['--seed', '3', '--timestep', timestep, '--steps', '10', '--provider', 'cpu', '-q'];
    const basis = join(tmp.root, 'basis');
    expect((await pullback(['basis', ...at, '--k', '2', '--out', basis])).code).toBe(0);
    const cli = async (extra: string[], file: string) => {
      const r = await pullback(['edit', ...at, '--basis', basis, '--render-steps', '12', ...extra, '--out', join(tmp.root, file)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return new Uint8Array(await readFile(join(tmp.root, file)));
    };
    const guidedCli = await cli(['--direction', '1', '--strength', '1.5', '--guidance-steps', '6', '--scale', '0.15', '--delta', '0.5', '--boost', '0.3'], 'guided.png');
    expect(Buffer.from(guided).equals(Buffer.from(guidedCli))).toBe(true);

    ed.edits.setMode('move');
    ed.edits.setParam('alpha', 2);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, -1);
    await ed.apply();
    const moved = ed.result.image!.bytes;
    const movedCli = await cli(['--direction', '1', '--strength', '-1', '--mode', 'move', '--alpha', '2', '--boost', '0.3'], 'moved.png');
    expect(Buffer.from(moved).equals(Buffer.from(movedCli))).toBe(true);

    // The comparison can fail: a parameter the editor would drop changes the CLI's bytes.
    const otherDelta = await cli(['--direction', '1', '--strength', '1.5', '--guidance-steps', '6', '--scale', '0.15', '--delta', '1', '--boost', '0.3'], 'other.png');
    expect(Buffer.from(guided).equals(Buffer.from(otherDelta))).toBe(false);
  }, 600_000); // a basis, the editor's renders and the CLI's on two shared cores

  it('masked directions with "keep outside exactly": the painted mask as a file gives pullback basis/edit --mask --mask-blend the same bytes', async () => {
    const modelDir = defaultModelDir();
    const ed = await seededInProcessEditor(modelDir, { seed: 3, steps: 10 });
    // One soft stroke across the upper left of the 64 × 64 picture, as a mouse would paint it.
    ed.mask.size = 20;
    ed.mask.feather = 0.5;
    ed.mask.begin(18, 18);
    ed.mask.moveTo(34, 26);
    await ed.mask.end();
    const mask = ed.mask.current!;
    ed.galleries.k = 2;
    ed.edits.setParam('previewSteps', 2);
    await ed.computeBasis();
    expect(ed.galleries.current?.mask).toBe(mask.hash);
    ed.addDirection(0);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, 2);
    ed.edits.setParam('renderSteps', 12);
    ed.mask.setKeepOutside(true);
    await ed.apply();
    expect(ed.notices.list.filter((x) => x.kind === 'error')).toEqual([]);
    const applied = ed.result.image!.bytes;

    const file = join(tmp.root, 'mask.png');
    await writeFile(file, mask.png);
    const at = ['--seed', '3', '--timestep', String(ed.edits.timestep), '--steps', '10', '--provider', 'cpu', '-q'];
    const basis = join(tmp.root, 'basis-masked');
    expect((await pullback(['basis', ...at, '--k', '2', '--mask', file, '--out', basis])).code).toBe(0);
    const cli = async (extra: string[], out: string) => {
      const r = await pullback(['edit', ...at, '--basis', basis, '--render-steps', '12', '--direction', '0', '--strength', '2', '--mask', file, ...extra, '--out', join(tmp.root, out)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return new Uint8Array(await readFile(join(tmp.root, out)));
    };
    expect(Buffer.from(applied).equals(Buffer.from(await cli(['--mask-blend'], 'masked-blend.png')))).toBe(true);
    // The comparison can fail: without "keep outside" (no --mask-blend) the picture is another one.
    expect(Buffer.from(applied).equals(Buffer.from(await cli([], 'masked.png')))).toBe(false);
  }, 600_000); // two masked bases (the editor's and the CLI's) and three renders on two shared cores
});

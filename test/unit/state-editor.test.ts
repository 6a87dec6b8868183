/**
 * EditorState against a fake engine (PullbackApi that answers jobs with schema-valid outputs): the edit stack's
 * commands and their undo steps, a strength drag as one step, the render cache on undo/redo, PNG export carrying the
 * recipe (tEXt) and its restore offer, the project content the editor saves, and when unsaved work goes to recovery.
 */
import { describe, expect, it } from 'vitest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { pngSize } from '../../src-renderer/src/lib/state/images';
import { parseRecipe } from '../../src-renderer/src/lib/state/recipe';
import { addPngText, readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { ProjectManifestSchema } from '../../src-main/shared/project-manifest';
import { fakeApi, png, seededEditor } from './state-fake-api';

async function started() {
  const f = fakeApi();
  const ed = await seededEditor(f.api);
  f.projectCalls.length = 0;
  return { ed, ...f };
}

describe('EditorState', () => {
  it('starts from a seed with the bundled model and a one-entry history', async () => {
    const { ed } = await started();
    expect(ed.model.dir).toBe('/m');
    expect(ed.source.current).toEqual({ kind: 'seed', seed: 42 });
    expect(pngSize(ed.source.image!.bytes)).toEqual({ width: 1, height: 1 });
    expect(ed.edits.history.entries.map((e) => e.label)).toEqual(['New from seed 42']);
    expect(ed.edits.timestep).toBe(555); // 0.6·T snapped to the 10-step schedule
    expect(ed.jobs.list.map((j) => j.status)).toEqual(['done', 'done']);
  });

  it('stack commands are undo steps; a strength drag is one', async () => {
    const { ed } = await started();
    ed.addDirection(1);
    const id = ed.edits.doc.edits[0].id;
    for (const s of [0.2, 0.9, 1.5, 2]) ed.edits.setStrength(id, s, true);
    ed.edits.endDrag();
    ed.edits.toggle(id);
    ed.addDirection(0);
    ed.edits.move(ed.edits.doc.edits[1].id, -1);
    expect(ed.edits.doc.edits.map((e) => [e.index, e.strength, e.enabled])).toEqual([
      [0, 1, true],
      [1, 2, false],
    ]);
    const history = ed.edits.history;
    expect(history.entries).toHaveLength(6); // new, add, drag, toggle, add, move
    history.undo();
    history.undo();
    history.undo();
    expect(ed.edits.doc.edits.map((e) => e.strength)).toEqual([2]);
    history.undo();
    expect(ed.edits.doc.edits.map((e) => e.strength)).toEqual([1]);
    ed.edits.remove(id);
    expect(ed.edits.doc.edits).toEqual([]);
    expect(history.canRedo).toBe(false);
  });

  it('apply renders the stack; undo/redo show cached renders without a new job', async () => {
    const { ed, calls } = await started();
    ed.addDirection(0);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, 2);
    await ed.apply();
    const edited = ed.result.image!.bytes;
    const edit = calls.filter((c) => c.name === 'edit');
    expect(edit).toHaveLength(1);
    expect(edit[0].input).toMatchObject({ seed: 42, timestep: 555, steps: 10, basis: { k: 2, method: 'krylov' }, edits: [{ index: 0, strength: 2 }] });
    await ed.undo(); // back to strength 1: rendered once
    expect(calls.filter((c) => c.name === 'edit')).toHaveLength(2);
    expect(ed.result.image!.bytes).not.toEqual(edited);
    await ed.redo(); // strength 2 again: from the cache
    expect(calls.filter((c) => c.name === 'edit')).toHaveLength(2);
    expect(ed.result.image!.bytes).toBe(edited);
    expect(ed.edits.stale).toBe(false);
  });

  it('exported PNG carries the recipe, and re-importing it offers to restore it', async () => {
    const { ed } = await started();
    ed.addDirection(1);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, -1.5);
    await ed.apply();
    const out = ed.exportPng()!;
    const text = readPngText(out.bytes);
    expect(text.Model).toBe('m');
    expect(text.Source).toBe('seed 42');
    const recipe = parseRecipe(text[RECIPE_KEY])!;
    expect(recipe).toMatchObject({ source: { kind: 'seed', seed: 42 }, steps: 10, edits: [{ t: 555, index: 1, strength: -1.5, k: 2, method: 'krylov' }] });
    await ed.importFile('again.png', out.bytes);
    expect(ed.pendingRecipe?.recipe).toEqual(recipe);
  });

  it('project content validates against the manifest schema', async () => {
    const { ed } = await started();
    ed.addDirection(0);
    await ed.apply();
    const c = (await ed.files.content())!;
    const m = ProjectManifestSchema.parse(c.manifest);
    expect(m.source).toEqual({ kind: 'seed', seed: 42, steps: 10 });
    expect(Object.keys(c.blobs).sort()).toEqual([m.images.source, m.images.result].sort());
    expect(m.history.entries.map((e) => e.label)).toEqual(['New from seed 42', 'Add direction 1 at t = 555']);
  });
});

describe('EditorState: analyses kept with the document', () => {
  const analysis = (k: number, seeds: number[]) => ({
    format: 'pullback-geometry-analysis' as const,
    version: 1 as const,
    settings: {
      modelHash: 'h',
      k,
      method: 'krylov' as const,
      tol: 1e-3,
      steps: 10,
      timesteps: [555],
      samples: seeds.map((seed) => ({ label: `seed ${seed}`, source: { kind: 'seed' as const, seed } })),
    },
    bases: [],
    sampleSimilarities: [],
    timestepSimilarities: [],
  });

  it('saves the analysis and its comparison as blobs, and an opened project shows them again', async () => {
    const { ed } = await started();
    ed.analysis.show(analysis(4, [0, 1]));
    expect(ed.analysis.loadComparison('other model.json', JSON.stringify(analysis(2, [5])))).toBeNull();
    const c = (await ed.files.content())!;
    const m = ProjectManifestSchema.parse(c.manifest);
    expect(m.analyses?.map((a) => [a.role, a.label])).toEqual([
      ['result', '2 samples × 1 timestep, k = 4'],
      ['comparison', 'other model.json'],
    ]);
    for (const a of m.analyses!) expect(Object.keys(c.blobs)).toContain(a.blob);
    expect(await ed.files.saveAs({ name: 'with analysis' })).toBe(true);

    ed.analysis.restore({ result: null, comparison: null });
    expect(ed.analysis.result).toBeNull();
    expect(await ed.files.open('id-with analysis')).toBe(true);
    expect(ed.analysis.result?.settings.k).toBe(4);
    expect(ed.analysis.comparison?.label).toBe('other model.json');
    expect(ed.analysis.comparison?.result.settings.samples).toHaveLength(1);
  });

  it('a damaged analysis blob is left out with a notice; the rest of the project opens', async () => {
    const { ed } = await started();
    const { readAnalyses } = await import('../../src-renderer/src/lib/state/project-files.svelte');
    const good = new TextEncoder().encode(JSON.stringify(analysis(3, [1])));
    const out = readAnalyses(
      [
        { blob: 'a'.repeat(64), role: 'result', label: 'broken' },
        { blob: 'b'.repeat(64), role: 'comparison', label: 'fine' },
      ],
      { ['a'.repeat(64)]: new TextEncoder().encode('{"format":"nope"'), ['b'.repeat(64)]: good },
      ed.notices,
    );
    expect(out.result).toBeNull();
    expect(out.comparison?.result.settings.k).toBe(3);
    expect(ed.notices.list.map((n) => n.text).join(' ')).toContain('“broken” could not be read');
  });
});

describe('PNG text chunks', () => {
  it('round-trip, survive non-Latin-1 text, and never throw on junk', () => {
    const p = addPngText(png(1), { a: 'b', Recipe: '{"name":"Zoë ✓"}' });
    expect(readPngText(p)).toEqual({ a: 'b', Recipe: '{"name":"Zoë \\u2713"}' });
    expect(JSON.parse(readPngText(p).Recipe)).toEqual({ name: 'Zoë ✓' });
    expect(readPngText(new Uint8Array([1, 2, 3]))).toEqual({});
    expect(readPngText(p.subarray(0, 40))).toEqual({});
    expect(parseRecipe('{"app":"Pullback Studio"}')).toBeNull();
    expect(parseRecipe('not json')).toBeNull();
  });
});

describe('EditorState: recipe restore, autosave, bad input', () => {
  it('restoring a seed recipe re-renders the seed and re-applies its stack', async () => {
    const { ed } = await started();
    ed.addDirection(1);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, 3);
    await ed.apply();
    const out = ed.exportPng()!;
    const f = fakeApi();
    const fresh = new EditorState(f.api);
    await fresh.load();
    await fresh.importFile('x.png', out.bytes);
    await fresh.restoreRecipe();
    // Exactly: open the model, render the seed, render the stack once.
    expect(f.calls.map((c) => c.name)).toEqual(['model.info', 'generate', 'edit']);
    expect(f.calls[1].input).toMatchObject({ seed: 42, steps: 10 });
    expect(f.calls[2].input).toMatchObject({ seed: 42, timestep: 555, steps: 10, edits: [{ index: 1, strength: 3 }] });
    expect(fresh.result.image!.bytes).toEqual(ed.result.image!.bytes);
    expect(fresh.edits.history.entries.map((e) => e.label)).toEqual(['New from seed 42', 'Restore recipe']);
  });

  it('autosaves only when dirty, to its session slot', async () => {
    const { ed, projectCalls } = await started();
    await ed.autosave.flush();
    expect(projectCalls.map((r) => r.op)).toEqual(['autosave']);
    expect(projectCalls[0]).toMatchObject({ op: 'autosave', session: ed.project.session });
    // Saved: nothing left for autosave to keep.
    expect(await ed.files.saveAs({ name: 'kept' })).toBe(true);
    expect(ed.project.dirty).toBe(false);
    await ed.autosave.flush();
    expect(projectCalls.map((r) => r.op)).toEqual(['autosave', 'save', 'recovery.discard']);
  });

  it('empty or out-of-range number fields are clamped, never sent raw', async () => {
    const { ed, calls } = await started();
    (ed.source as unknown as { steps: unknown }).steps = '';
    ed.source.seed = -5;
    await ed.newFromSeed();
    expect(calls.at(-1)?.input).toMatchObject({ seed: 0, steps: 50 });
  });
});

describe('EditorState: unsaved work is never overwritten', () => {
  it('starting a new document autosaves the unsaved one and moves to a fresh recovery slot', async () => {
    const { ed, projectCalls } = await started();
    ed.addDirection(0);
    const first = ed.project.session;
    ed.source.seed = 43;
    // Unsaved work: New asks first; Discard goes on (the work still goes to recovery, as a safety net).
    const replaced = ed.newFromSeed();
    expect(ed.guard.prompt).toMatchObject({ what: 'New from seed 43' });
    ed.guard.answer({ choice: 'discard' });
    await replaced;
    expect(projectCalls).toEqual([expect.objectContaining({ op: 'autosave', session: first })]);
    expect(ed.project.session).not.toBe(first);
    expect(ed.source.current).toEqual({ kind: 'seed', seed: 43 });
    // Trying another seed without changing anything keeps no recovery copy (and asks nothing).
    ed.source.seed = 44;
    await ed.newFromSeed();
    expect(ed.guard.prompt).toBeNull();
    expect(projectCalls).toHaveLength(1);
  });
});

describe('EditorState: switching the model', () => {
  it('closes the document after keeping edited work in recovery', async () => {
    const { ed, projectCalls } = await started();
    ed.addDirection(0);
    expect(await ed.selectModel('/other')).toBe(true);
    expect(ed.model.dir).toBe('/other');
    expect(projectCalls.map((r) => r.op)).toEqual(['autosave']);
    expect(ed.source.current).toBeNull();
    expect(ed.shownImage).toBeNull();
    expect(ed.edits.doc.edits).toEqual([]);
    expect(ed.project.dirty).toBe(false);
  });
});

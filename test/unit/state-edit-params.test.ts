/**
 * The editor's Advanced edit parameters against a fake engine: their defaults are the `edit` job schema's (so Apply
 * and `pullback edit` agree when nobody touched a control), changed values reach Apply's job input, each change is
 * one undo step that undo restores (with the render cache keyed on them), Reset, clamping, the recipe and the project
 * carry them, and a project saved before the controls existed loads with the defaults.
 */
import { describe, expect, it } from 'vitest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { parseRecipe } from '../../src-renderer/src/lib/state/recipe';
import { readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { EditInputSchema } from '../../src-main/shared/api';
import { EDIT_PARAMS_DEFAULT, GALLERY_DEFAULTS } from '../../src-main/shared/edit-defaults';
import { applyJobInput } from '../../src-main/shared/edit-job';
import { ProjectManifestSchema } from '../../src-main/shared/project-manifest';
import { fakeApi, png, seededEditor } from './state-fake-api';

async function started() {
  const f = fakeApi();
  const ed = await seededEditor(f.api);
  ed.addDirection(0);
  const edits = () => f.calls.filter((c) => c.name === 'edit').map((c) => c.input);
  return { ed, edits, ...f };
}

describe('EditorState: edit parameters', () => {
  it('defaults are the edit job schema defaults, sent explicitly; render steps default to the authors\' 100', async () => {
    const { ed, edits } = await started();
    await ed.apply();
    const sent = edits()[0];
    // What the engine fills in when an option is left out (the CLI leaves out what it was not given).
    const engine = EditInputSchema.parse({ modelDir: '/m', seed: 1, timestep: 555, edits: [] });
    expect(sent).toMatchObject({
      mode: engine.mode,
      composition: engine.composition,
      guidanceSteps: engine.guidanceSteps,
      scale: engine.scale,
      delta: engine.delta,
      alpha: engine.alpha,
      boostFraction: engine.boostFraction,
      renderSteps: engine.steps, // the CLI's default render schedule is its default --steps, 100
      steps: 10, // x_t's path keeps the document's schedule
    });
    expect(sent).toMatchObject({ guidanceSteps: 16, scale: 0.1, delta: 1, boostFraction: 0.2, renderSteps: 100, mode: 'guidance' });
    expect(ed.edits.paramsAreDefault).toBe(true);
  });

  it('changed n, s, δ, t_boost, mode and render steps reach the job input; undo restores them from the render cache', async () => {
    const { ed, edits } = await started();
    await ed.apply();
    ed.edits.setParam('guidanceSteps', 8);
    ed.edits.setParam('scale', 0.25);
    ed.edits.setParam('delta', 0.5);
    ed.edits.setParam('boostFraction', 0.3);
    ed.edits.setParam('renderSteps', 40);
    expect(ed.edits.stale).toBe(true);
    await ed.apply();
    expect(edits()).toHaveLength(2);
    expect(edits()[1]).toMatchObject({ mode: 'guidance', guidanceSteps: 8, scale: 0.25, delta: 0.5, boostFraction: 0.3, renderSteps: 40 });
    ed.edits.setMode('move');
    ed.edits.setParam('alpha', 3);
    ed.edits.setParam('boostFraction', null);
    await ed.apply();
    expect(edits()[2]).toMatchObject({ mode: 'move', alpha: 3, boostFraction: null, composition: 'summed' });
    ed.edits.setComposition('sequential');
    ed.edits.setComposition('sequential'); // unchanged: no undo step
    await ed.apply();
    expect(edits()[3]).toMatchObject({ mode: 'move', composition: 'sequential' });
    expect(ed.edits.history.entries.at(-1)?.label).toBe('Directions one after another');
    await ed.undo();
    expect(edits()).toHaveLength(4); // the move render before it is cached
    expect(ed.edits.history.entries.map((e) => e.label).slice(-9, -1)).toEqual([
      'Guidance steps n: 8',
      'Scale s: 0.25',
      'Probe step δ: 0.5',
      't_boost: 0.3',
      'Render steps: 40',
      'Edit mode: move',
      'Move α: 3',
      't_boost: off',
    ]);
    await ed.undo();
    await ed.undo();
    await ed.undo(); // back to the guidance parameters: that render is cached
    expect(ed.edits.params).toMatchObject({ mode: 'guidance', alpha: 1, boostFraction: 0.3, renderSteps: 40 });
    expect(edits()).toHaveLength(6); // the two intermediate states were rendered, the third came from the cache
    expect(ed.edits.stale).toBe(false);
  });

  it('fields clamp to the engine\'s ranges and round integers; junk and unchanged values add no undo step', async () => {
    const { ed } = await started();
    const before = ed.edits.history.entries.length;
    ed.edits.setParam('guidanceSteps', 1e6);
    ed.edits.setParam('renderSteps', 3.6);
    ed.edits.setParam('scale', -2);
    expect(ed.edits.params).toMatchObject({ guidanceSteps: 512, renderSteps: 4, scale: 0 });
    const after = ed.edits.history.entries.length;
    ed.edits.setParam('delta', Number.NaN);
    ed.edits.setParam('guidanceSteps', 512);
    ed.edits.setParam('scale', null); // only t_boost can be off
    expect(ed.edits.history.entries.length).toBe(after);
    expect(after - before).toBe(3);
    // A drag of one field is one step.
    for (const s of [0.11, 0.12, 0.13]) ed.edits.setParam('scale', s, true);
    ed.edits.endDrag();
    expect(ed.edits.history.entries.length).toBe(after + 1);
    expect(ed.edits.params.scale).toBe(0.13);
  });

  it('Reset returns to the defaults in one step and does nothing at the defaults', async () => {
    const { ed } = await started();
    ed.edits.resetParams();
    const n = ed.edits.history.entries.length;
    ed.edits.setParam('guidanceSteps', 4);
    ed.edits.setMode('move');
    expect(ed.edits.paramsAreDefault).toBe(false);
    ed.edits.resetParams();
    expect(ed.edits.params).toEqual(EDIT_PARAMS_DEFAULT);
    expect(ed.edits.history.entries.length).toBe(n + 3);
    expect(ed.edits.history.entries.at(-1)?.label).toBe('Reset edit parameters');
    // The stack itself is untouched by parameter changes.
    expect(ed.edits.doc.edits).toHaveLength(1);
  });

  it('preview steps feed the gallery (default 20, approximate) and stay below the document\'s steps', async () => {
    const { ed } = await started();
    expect(ed.galleries.previewSteps).toBe(GALLERY_DEFAULTS.previewSteps);
    ed.edits.setParam('previewSteps', 6);
    expect(ed.galleries.previewSteps).toBe(6);
  });

  it('the exported recipe carries the parameters and restoring it applies with them', async () => {
    const { ed } = await started();
    ed.edits.setParam('guidanceSteps', 12);
    ed.edits.setParam('delta', 2);
    await ed.apply();
    const out = ed.exportPng()!;
    const recipe = parseRecipe(readPngText(out.bytes)[RECIPE_KEY])!;
    expect(recipe.params).toMatchObject({ guidanceSteps: 12, delta: 2 });
    const f = fakeApi();
    const fresh = new EditorState(f.api);
    await fresh.load();
    await fresh.importFile('x.png', out.bytes);
    await fresh.restoreRecipe();
    expect(f.calls.at(-1)).toMatchObject({ name: 'edit', input: { guidanceSteps: 12, delta: 2, scale: 0.1 } });
    // Malformed parameters make the recipe unusable rather than half-applied.
    expect(parseRecipe(JSON.stringify({ ...recipe, params: { guidanceSteps: 'many' } }))).toBeNull();
    expect(parseRecipe(JSON.stringify({ ...recipe, params: { colour: 1 } }))).toBeNull();
  });

  it('the project saves them in the history; a project without them loads with the defaults', async () => {
    const { ed } = await started();
    ed.edits.setParam('scale', 0.4);
    const c = (await ed.files.content())!;
    const m = ProjectManifestSchema.parse(c.manifest);
    expect(m.state.params).toMatchObject({ scale: 0.4 });
    expect(m.history.entries.at(-1)?.state.params).toMatchObject({ scale: 0.4 });
    // A version-2 file from before the controls: its states have no params.
    const old = m.history.entries.map((e) => ({ label: e.label, state: { timestep: e.state.timestep, edits: e.state.edits } }));
    ed.edits.load(ProjectManifestSchema.shape.history.parse({ entries: old, index: old.length - 1 }).entries, old.length - 1);
    expect(ed.edits.params).toEqual(EDIT_PARAMS_DEFAULT);
  });

  it('text-conditioned models render without the η = 1 tail whatever the control says', () => {
    const base = { modelDir: '/m', source: { seed: 1 }, timestep: 555, steps: 10, basis: { k: 2, method: 'krylov' as const }, edits: [{ index: 0, strength: 1 }], provider: 'auto' as const };
    expect(applyJobInput({ ...base, params: EDIT_PARAMS_DEFAULT, textConditioned: true }).boostFraction).toBeNull();
    expect(applyJobInput({ ...base, params: EDIT_PARAMS_DEFAULT, textConditioned: false }).boostFraction).toBe(0.2);
  });

  it('the authors\' SD preset: s = 1, n = 16 (64 with an edit prompt), no tail, in one undo step', async () => {
    const { ed, edits } = await started();
    const steps = ed.edits.history.entries.length;
    ed.edits.applySdPreset();
    expect(ed.edits.params).toMatchObject({ mode: 'guidance', scale: 1, guidanceSteps: 16, boostFraction: null });
    expect(ed.edits.history.entries.length).toBe(steps + 1);
    ed.edits.applySdPreset();
    expect(ed.edits.history.entries.length).toBe(steps + 1);
    ed.edits.setEditPrompt('a smiling face');
    ed.edits.applySdPreset();
    expect(ed.edits.params.guidanceSteps).toBe(64);
    await ed.apply();
    expect(edits().at(-1)).toMatchObject({ scale: 1, guidanceSteps: 64, boostFraction: null });
    ed.undo();
    expect(ed.edits.params.guidanceSteps).toBe(16);
  });

  it('the edit prompt: sent for text models only, absent when none (the document\'s prompt), one undo step, in recipe and project', async () => {
    const base = { modelDir: '/m', source: { seed: 1 }, timestep: 555, steps: 10, basis: { k: 2, method: 'krylov' as const }, edits: [{ index: 0, strength: 1 }], provider: 'auto' as const };
    const withPrompt = { ...EDIT_PARAMS_DEFAULT, editPrompt: 'a smiling face' };
    expect(applyJobInput({ ...base, params: withPrompt, textConditioned: true }).editPrompt).toBe('a smiling face');
    expect(applyJobInput({ ...base, params: withPrompt, textConditioned: false })).not.toHaveProperty('editPrompt');
    expect(applyJobInput({ ...base, params: EDIT_PARAMS_DEFAULT, textConditioned: true })).not.toHaveProperty('editPrompt');

    const { ed } = await started();
    const steps = ed.edits.history.entries.length;
    ed.edits.setEditPrompt('  ');
    expect(ed.edits.history.entries.length).toBe(steps);
    ed.edits.setEditPrompt('a smiling face');
    expect(ed.edits.params.editPrompt).toBe('a smiling face');
    expect(ed.edits.paramsAreDefault).toBe(false);
    ed.edits.setEditPrompt('');
    expect(ed.edits.params.editPrompt).toBeNull();
    ed.undo();
    expect(ed.edits.params.editPrompt).toBe('a smiling face');
    const m = ProjectManifestSchema.parse((await ed.files.content())!.manifest);
    expect(m.state.params).toMatchObject({ editPrompt: 'a smiling face' });
    await ed.apply();
    const recipe = parseRecipe(readPngText(ed.exportPng()!.bytes)[RECIPE_KEY])!;
    expect(recipe.params).toMatchObject({ editPrompt: 'a smiling face' });
    expect(parseRecipe(JSON.stringify({ ...recipe, params: { editPrompt: 3 } }))).toBeNull();
  });
});

describe('EditorState: the authors\' strip of the stack', () => {
  it('renders − and + with frames 0, 4, …, n at Apply\'s parameters and lays them out −n … 0 … +n', async () => {
    const { ed, edits } = await started();
    ed.edits.setStrength(ed.edits.doc.edits[0].id, 2);
    ed.edits.setParam('guidanceSteps', 10);
    ed.edits.setParam('delta', 0.5);
    const strip = (await ed.guidanceStrip())!;
    const sent = edits();
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ frames: [0, 4, 8, 10], guidanceSteps: 10, delta: 0.5, edits: [{ index: 0, strength: -2 }] });
    expect(sent[1]).toMatchObject({ frames: [0, 4, 8, 10], edits: [{ index: 0, strength: 2 }] });
    // The fake's frame m with strength s has pixel value 20000 + 100·m + 10·s (two low bytes in the PNG's pixel).
    const expected = [
      [10, -2],
      [8, -2],
      [4, -2],
      [0, 2],
      [4, 2],
      [8, 2],
      [10, 2],
    ].map(([m, s]) => png(20000 + m * 100 + s * 10));
    expect(strip.images).toEqual(expected);
    expect(strip.text.Directions).toMatch(/^#1 × 2 \(negated on the left\), after 0, 4, 8, 10 guidance steps/);
    expect(strip.name).toMatch(/-t555-guidance-strip\.png$/);
  });

  it('sends summed guidance for one direction in sequential composition, and refuses several, saying why', async () => {
    const { ed, edits } = await started();
    ed.edits.setComposition('sequential');
    expect(await ed.guidanceStrip()).not.toBeNull();
    expect(edits().every((e) => e.composition === 'summed')).toBe(true);
    ed.addDirection(0);
    ed.edits.setStrength(ed.edits.doc.edits[1].id, 1);
    const before = edits().length;
    expect(await ed.guidanceStrip()).toBeNull();
    expect(ed.notices.list.at(-1)?.text).toMatch(/guided together/);
    expect(edits()).toHaveLength(before);
  });

  it('refuses in move mode and with an empty stack, saying why', async () => {
    const { ed, edits } = await started();
    ed.edits.setMode('move');
    expect(await ed.guidanceStrip()).toBeNull();
    expect(ed.notices.list.at(-1)?.text).toMatch(/Mode to Guidance/);
    ed.edits.remove(ed.edits.doc.edits[0].id);
    expect(await ed.guidanceStrip()).toBeNull();
    expect(edits()).toHaveLength(0);
  });
});

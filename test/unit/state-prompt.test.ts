/**
 * The editor's prompt fields on a text-conditioned (Stable Diffusion) model, against the fake engine: New from seed
 * sends the typed prompt and the document keeps it; every later job of the document (gallery, apply's edit, export,
 * save) uses the document's conditioning, not what was typed since; a new prompt is a new document; project files
 * and PNG recipes keep it; unconditional models never send prompt parameters (the fake refuses them, as the engine).
 */
import { describe, expect, it } from 'vitest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { clampGuidance, DEFAULT_GUIDANCE_SCALE, EMPTY_CONDITIONING, GUIDANCE_LIMITS, normalizeConditioning, PromptFields } from '../../src-renderer/src/lib/state/prompt.svelte';
import { parseRecipe } from '../../src-renderer/src/lib/state/recipe';
import { readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { JOBS, textParams } from '../../src-main/shared/api';
import { ProjectManifestSchema } from '../../src-main/shared/project-manifest';
import { decodeProject, encodeProject } from '../../src-main/core/project';
import type { ProjectRequest } from '../../src-main/shared/project-api';
import { FAKE_TEXT_MODEL_DIR, fakeApi, png } from './state-fake-api';

const CAT = { prompt: 'a photo of a cat', negativePrompt: 'blurry', guidanceScale: 5 };
const DOG = { prompt: 'a painting of a dog', negativePrompt: '', guidanceScale: 9 };

/**
 * The fake engine with project files that really go through the format: Save encodes the manifest and blobs into a
 * .pbproj (schema-checked, unknown fields stripped) and Open decodes it, as the project service does.
 */
function fakeWithFiles() {
  const f = fakeApi();
  const files = new Map<string, Uint8Array>();
  const project = f.api.project;
  f.api.project = (async (req: ProjectRequest) => {
    if (req.op === 'save') {
      const id = req.id ?? `id-${req.name}`;
      const blobs = new Map(Object.entries(req.blobs).map(([hash, b]) => [hash, typeof b === 'string' ? new Uint8Array(Buffer.from(b, 'base64')) : b] as const));
      files.set(id, encodeProject({ manifest: req.manifest, blobs }));
      return { id, name: req.name ?? 'saved', when: 'now' };
    }
    if (req.op === 'open') {
      const p = decodeProject(files.get(req.id)!);
      return { id: req.id, name: req.id, manifest: p.manifest, blobs: Object.fromEntries(p.blobs), readOnly: p.readOnly, fromVersion: p.fromVersion };
    }
    return project(req);
  }) as typeof f.api.project;
  return f;
}

/** An editor with the fake text model open and a seed document rendered at `typed`. */
async function textEditor(typed = CAT) {
  const f = fakeWithFiles();
  const ed = new EditorState(f.api);
  await ed.load();
  expect(await ed.selectModel(FAKE_TEXT_MODEL_DIR)).toBe(true);
  expect(ed.model.textConditioned).toBe(true);
  ed.source.seed = 42;
  ed.source.steps = 10;
  ed.prompt.show(typed);
  await ed.newFromSeed();
  return { ed, ...f };
}

const inputs = (calls: { name: string; input: Record<string, unknown> }[], name: string) => calls.filter((c) => c.name === name).map((c) => c.input);
const conditioningOf = (i: Record<string, unknown>) => ({ prompt: i.prompt, negativePrompt: i.negativePrompt, guidanceScale: i.guidanceScale });

describe('PromptFields', () => {
  it('defaults to the empty prompt at guidance 7.5; the scale field is clamped to what the schema takes', () => {
    const p = new PromptFields();
    expect(p.typed).toEqual({ prompt: '', negativePrompt: '', guidanceScale: 7.5 });
    expect(DEFAULT_GUIDANCE_SCALE).toBe(7.5);
    expect([GUIDANCE_LIMITS.min, GUIDANCE_LIMITS.max]).toEqual([textParams.guidanceScale.unwrap().minValue, textParams.guidanceScale.unwrap().maxValue]);
    for (const [typed, sent] of [['', 7.5], [null, 7.5], [Number.NaN, 7.5], [150, 100], [-3, 0], [1, 1], [12.5, 12.5]] as const) {
      p.guidanceScale = typed as unknown as number;
      expect(p.take().guidanceScale).toBe(sent);
      expect(p.guidanceScale).toBe(sent); // written back as sent
    }
    expect(clampGuidance('4')).toBe(4);
  });

  it('a saved conditioning is made valid: long text cut to the schema, missing fields the defaults', () => {
    const c = normalizeConditioning({ prompt: 'x'.repeat(30_000) });
    expect(c.prompt).toHaveLength(textParams.prompt.unwrap().maxLength!);
    expect(c).toMatchObject({ negativePrompt: '', guidanceScale: 7.5 });
    expect(textParams.prompt.safeParse(c.prompt).success).toBe(true);
  });
});

describe('EditorState on a text-conditioned model', () => {
  it('New from seed sends the typed prompt; the document keeps it and shows its tokenization', async () => {
    const { ed, calls } = await textEditor();
    const [generate] = inputs(calls, 'generate');
    expect(generate).toMatchObject({ seed: 42, steps: 10, ...CAT });
    expect(JOBS.generate.input.safeParse(generate).success).toBe(true);
    expect(ed.source.conditioning).toEqual(CAT);
    expect(ed.source.xt).toEqual({ seed: 42, ...CAT });
    expect(ed.prompt.info).toMatchObject({ prompt: CAT.prompt, tokens: 5, maxTokens: 75, truncated: false });
  });

  it('galleries and Apply send the document’s conditioning, not what was typed after the render', async () => {
    const { ed, calls } = await textEditor();
    ed.prompt.show(DOG); // typed, not rendered
    await ed.computeBasis();
    const [gallery] = inputs(calls, 'gallery');
    expect(conditioningOf(gallery)).toEqual(CAT);
    expect(JOBS.gallery.input.safeParse(gallery).success).toBe(true);
    ed.addDirection(1);
    await ed.apply();
    const [edit] = inputs(calls, 'edit');
    expect(edit).toMatchObject({ seed: 42, edits: [{ index: 1, strength: 1 }], ...CAT });
    expect(JOBS.edit.input.safeParse(edit).success).toBe(true);
    // The fields still hold what was typed, and the panel says the image was made with other settings.
    expect(ed.prompt.typed).toEqual(DOG);
    expect(ed.source.conditioning).toEqual(CAT);
  });

  it('a new prompt and New is a new document at the new prompt, even for the same seed', async () => {
    const { ed, calls } = await textEditor();
    const catImage = ed.source.image!.bytes;
    const catIdentity = ed.source.identity;
    ed.prompt.show(DOG);
    await ed.newFromSeed();
    const generates = inputs(calls, 'generate');
    expect(generates).toHaveLength(2);
    expect(generates[1]).toMatchObject({ seed: 42, ...DOG });
    expect(ed.source.conditioning).toEqual(DOG);
    expect(ed.source.image!.bytes).not.toEqual(catImage);
    // The render and gallery caches are keyed by the identity: the two prompts never share an entry.
    expect(ed.source.identity).not.toBe(catIdentity);
    expect(ed.source.identity).toContain('seed:42');
    await ed.computeBasis();
    expect(conditioningOf(inputs(calls, 'gallery')[0])).toEqual(DOG);
  });

  it('pressing New again for the same seed and prompt while it renders joins the render; another prompt supersedes it', async () => {
    const f = fakeApi();
    const { startJob } = f.api;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const asked: unknown[] = [];
    f.api.startJob = (async (name, input, ...rest) => {
      if (name === 'generate') {
        asked.push((input as { prompt?: string }).prompt);
        await held;
      }
      return startJob(name, input, ...rest);
    }) as typeof f.api.startJob;
    const ed = new EditorState(f.api);
    await ed.load();
    await ed.selectModel(FAKE_TEXT_MODEL_DIR);
    ed.prompt.show(CAT);
    const tick = () => new Promise((r) => setTimeout(r, 0));
    const first = ed.newFromSeed();
    await tick(); // the render has asked the engine
    const same = ed.newFromSeed();
    await tick();
    ed.prompt.show(DOG);
    const other = ed.newFromSeed();
    release();
    await Promise.all([first, same, other]);
    // The second New joined the first render; the third (another prompt) asked again.
    expect(asked).toEqual([CAT.prompt, DOG.prompt]);
    expect(ed.notices.list.map((n) => n.text)).toContain('Stopped rendering seed 0: rendering it with the new settings instead.');
    expect(ed.source.conditioning).toEqual(DOG);
  });

  it('a prompt over the token limit is reported truncated', async () => {
    const long = { ...CAT, prompt: Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ') };
    const { ed } = await textEditor(long);
    expect(ed.prompt.info).toMatchObject({ tokens: 80, maxTokens: 75, truncated: true });
  });

  it('Save keeps the document’s conditioning; Open restores it to the document and the fields, whatever was typed', async () => {
    const { ed, calls } = await textEditor();
    ed.prompt.show(DOG);
    const c = (await ed.files.content())!;
    expect(ProjectManifestSchema.parse(c.manifest).source).toEqual({ kind: 'seed', seed: 42, steps: 10, ...CAT });
    expect(await ed.files.saveAs({ name: 'cat' })).toBe(true);

    // Another document at another prompt, then the saved one again.
    await ed.newFromSeed();
    expect(ed.source.conditioning).toEqual(DOG);
    ed.prompt.show({ prompt: 'typed later', negativePrompt: '', guidanceScale: 2 });
    expect(await ed.files.open('id-cat')).toBe(true);
    expect(ed.source.conditioning).toEqual(CAT);
    expect(ed.prompt.typed).toEqual(CAT);
    calls.length = 0;
    await ed.computeBasis();
    expect(conditioningOf(inputs(calls, 'gallery')[0])).toEqual(CAT);
  });

  it('a text-model project saved without prompt fields opens at the engine’s defaults', async () => {
    const { ed } = await textEditor();
    const c = (await ed.files.content())!;
    // As a file written before the prompt fields existed: the source without them.
    const { seed, steps } = c.manifest.source as { seed: number; steps: number };
    await ed.api.project({ op: 'save', name: 'bare', manifest: { ...c.manifest, source: { kind: 'seed', seed, steps } }, blobs: c.blobs });
    const fresh = new EditorState(ed.api);
    await fresh.load();
    await fresh.selectModel(FAKE_TEXT_MODEL_DIR);
    expect(await fresh.files.open('id-bare')).toBe(true);
    expect(fresh.source.conditioning).toEqual({ prompt: '', negativePrompt: '', guidanceScale: 7.5 });
  });

  it('the exported PNG’s recipe keeps the prompt; restoring it renders at the recipe’s prompt, not the typed one', async () => {
    const { ed } = await textEditor();
    await ed.computeBasis();
    ed.addDirection(0);
    await ed.apply();
    const out = ed.exportPng()!;
    const recipe = parseRecipe(readPngText(out.bytes)[RECIPE_KEY])!;
    expect(recipe.source).toEqual({ kind: 'seed', seed: 42, ...CAT });

    const f = fakeApi();
    const fresh = new EditorState(f.api);
    await fresh.load();
    await fresh.selectModel(FAKE_TEXT_MODEL_DIR);
    fresh.prompt.show(DOG);
    await fresh.importFile('x.png', out.bytes);
    await fresh.restoreRecipe();
    expect(inputs(f.calls, 'generate').map(conditioningOf)).toEqual([CAT]);
    expect(inputs(f.calls, 'edit').map(conditioningOf)).toEqual([CAT]);
    expect(fresh.source.conditioning).toEqual(CAT);
    expect(fresh.result.image!.bytes).toEqual(ed.result.image!.bytes);
  });

  it('a recipe with malformed prompt fields is not offered', () => {
    const good = { app: 'Pullback Studio', model: { name: 'sd', dir: '/sd' }, source: { kind: 'seed', seed: 1, prompt: 'p', guidanceScale: 3 }, steps: 10, edits: [] };
    expect(parseRecipe(JSON.stringify(good))).not.toBeNull();
    expect(parseRecipe(JSON.stringify({ ...good, source: { ...good.source, prompt: 7 } }))).toBeNull();
    expect(parseRecipe(JSON.stringify({ ...good, source: { ...good.source, guidanceScale: 'high' } }))).toBeNull();
  });

  it('an imported picture is at the empty prompt its inversion used, whatever is typed (and says so)', async () => {
    const { ed, calls } = await textEditor();
    await ed.invertImage('photo.png', png(9));
    expect(inputs(calls, 'invert')[0]).not.toHaveProperty('prompt');
    expect(ed.source.conditioning).toEqual(EMPTY_CONDITIONING);
    expect(ed.prompt.info).toBeNull();
    expect(ed.notices.list.map((n) => n.text)).toContain('Imported pictures are inverted and edited without a prompt.');
    await ed.computeBasis();
    expect(conditioningOf(inputs(calls, 'gallery')[0])).toEqual(EMPTY_CONDITIONING);
    const c = (await ed.files.content())!;
    expect(ProjectManifestSchema.parse(c.manifest).source).toMatchObject({ kind: 'image', prompt: '', negativePrompt: '' });
  });

  it('a prompted document is not added to an analysis (the analyze job takes no prompt)', async () => {
    const { ed } = await textEditor();
    const before = ed.analysis.samples;
    ed.addSourceToAnalysis();
    expect(ed.analysis.samples).toEqual(before);
    expect(ed.notices.list.at(-1)?.text).toContain('Analyses do not take prompts yet');
    ed.prompt.show({ ...EMPTY_CONDITIONING, guidanceScale: 3 });
    ed.source.seed = 4242;
    await ed.newFromSeed();
    ed.addSourceToAnalysis();
    expect(ed.analysis.samples).toEqual([...before, { kind: 'seed', seed: 4242 }]);
  });
});

describe('EditorState on an unconditional model', () => {
  it('never sends prompt parameters, whatever the fields hold', async () => {
    const f = fakeApi();
    const ed = new EditorState(f.api);
    await ed.load();
    expect(ed.model.textConditioned).toBe(false);
    ed.prompt.show(CAT);
    ed.source.seed = 3;
    await ed.newFromSeed();
    await ed.computeBasis();
    ed.addDirection(0);
    await ed.apply();
    expect(ed.notices.list.filter((n) => n.kind === 'error')).toEqual([]);
    const jobs = f.calls.filter((c) => c.name !== 'model.info');
    expect(jobs.map((c) => c.name)).toEqual(['generate', 'gallery', 'edit']);
    for (const c of jobs) for (const k of ['prompt', 'negativePrompt', 'guidanceScale']) expect(c.input).not.toHaveProperty(k);
    expect(ed.source.conditioning).toBeNull();
    expect((await ed.files.content())!.manifest.source).toEqual({ kind: 'seed', seed: 3, steps: 50 });
  });

  it('a basis prompt: the gallery takes J there in a gallery of its own; Apply, transport and the project keep it', async () => {
    const { ed, calls } = await textEditor();
    await ed.computeBasis();
    const plainKey = ed.galleries.current!.key;
    ed.galleries.basisPrompt = '  a painting of a dog ';
    await ed.computeBasis();
    const galleries = inputs(calls, 'gallery');
    expect(galleries[0]).not.toHaveProperty('basisPrompt');
    expect(galleries[1]).toMatchObject({ basisPrompt: 'a painting of a dog', ...conditioningOf(galleries[0]) });
    const g = ed.galleries.current!;
    expect(g.key).not.toBe(plainKey);
    expect(g.basisPrompt).toBe('a painting of a dog');
    ed.addDirection(0);
    await ed.apply();
    expect(inputs(calls, 'edit').at(-1)).toMatchObject({ basisPrompt: 'a painting of a dog' });
    const m = ProjectManifestSchema.parse((await ed.files.content())!.manifest);
    expect(m.bases.find((b) => b.key === g.key)?.basisPrompt).toBe('a painting of a dog');
    // An empty field is the document's prompt again: its gallery is the one shown.
    ed.galleries.basisPrompt = ' ';
    expect(ed.galleries.current!.key).toBe(plainKey);
  });

  it('an unconditional model never sends a basis prompt', async () => {
    const f = fakeApi();
    const ed = new EditorState(f.api);
    await ed.load();
    ed.source.seed = 3;
    ed.source.steps = 10;
    await ed.newFromSeed();
    ed.galleries.basisPrompt = 'a dog';
    await ed.computeBasis();
    expect(inputs(f.calls, 'gallery')[0]).not.toHaveProperty('basisPrompt');
  });
});

/**
 * The geometry's own prompts on the tiny SD fixture (issue 11 item 4: the paper's SD edits with and without an edit
 * prompt): `basisPrompt` takes J at another prompt than the x_t path's, `editPrompt` points x-space guidance along ε
 * at another prompt. x_t stays on the path prompt's DDIM path; an unconditional model refuses both.
 */
import { describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { textFolder } from '../helpers/text-fixtures';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('text-geometry-prompts');
const SD = textFolder('sd1-optimum');
const PATH = 'a photo of a cat';
const OTHER = 'a painting of a dog';
const at = { modelDir: SD, provider: 'cpu' as const, seed: 2, t: 0.5, steps: 10, k: 2, guidanceScale: 7.5 };
const bytes = (p: { data: Uint8Array }) => Buffer.from(p.data);

describe('basisPrompt and editPrompt (sd1-optimum)', () => {
  it('basisPrompt: J at that prompt at the path prompt\'s x_t — the basis of that x_t at that prompt, bit for bit', async () => {
    const path = await runJobInProcess('basis', { ...at, prompt: PATH }, { quiet: true });
    const other = await runJobInProcess('basis', { ...at, prompt: PATH, basisPrompt: OTHER }, { quiet: true });
    // Same x_t (the path is PATH's either way), another J.
    expect(bytes(other.xt)).toEqual(bytes(path.xt));
    expect(bytes(other.V)).not.toEqual(bytes(path.V));
    expect(other.cacheId).not.toBe(path.cacheId);
    expect(other.prompt).toMatchObject({ prompt: PATH, basisPrompt: OTHER });
    // The same operator as J of that x_t given directly at the prompt OTHER: the same cache entry, the same V.
    const direct = await runJobInProcess('basis', { modelDir: SD, provider: 'cpu', xt: path.xt, timestep: path.timestep, steps: 10, k: 2, prompt: OTHER, guidanceScale: 7.5 }, { quiet: true });
    expect(direct.cacheId).toBe(other.cacheId);
    expect(bytes(direct.V)).toEqual(bytes(other.V));
  });

  it('editPrompt: guidance along ε at another prompt gives another edit; absent, the path prompt\'s', async () => {
    const edit = { ...at, prompt: PATH, basis: { k: 2 }, edits: [{ index: 0, strength: 2 }], guidanceSteps: 4, renderSteps: 5, boostFraction: null };
    const plain = await runJobInProcess('edit', edit, { quiet: true });
    const prompted = await runJobInProcess('edit', { ...edit, editPrompt: OTHER }, { quiet: true });
    const same = await runJobInProcess('edit', { ...edit, editPrompt: PATH }, { quiet: true });
    // The edited latent (the PNGs of these random-weight 8×8 latents can round to the same bytes).
    expect(bytes(prompted.xEdited)).not.toEqual(bytes(plain.xEdited));
    expect(bytes(same.xEdited)).toEqual(bytes(plain.xEdited));
    expect(prompted.prompt).toMatchObject({ prompt: PATH, editPrompt: OTHER });
  });

  it('an unconditional model refuses both, naming them', async () => {
    for (const extra of [{ basisPrompt: 'x' }, { editPrompt: 'x' }]) {
      const input = { modelDir: ANALYTIC_INT64, provider: 'cpu' as const, seed: 1, t: 0.5, steps: 10, edits: [{ index: 0, strength: 1 }], basis: { k: 1 }, ...extra };
      const err = await runJobInProcess('edit', input, { quiet: true }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('invalid-argument');
      expect((err as Error).message).toContain(Object.keys(extra)[0]);
    }
  });
});

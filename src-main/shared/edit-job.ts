/**
 * The `edit` job input of the editor's Apply, built in one function so that a test can build exactly what Apply sends
 * and compare its image with `pullback edit` given the same parameters (test/integration/apply-vs-cli.test.ts).
 * No Node imports (the renderer imports this file).
 */
import type { Float32TensorPayload, JobInput, ProviderPreference } from './api';
import type { EditParams } from './edit-defaults';

export interface ApplyRequest {
  modelDir: string;
  /**
   * Where x_t comes from: a seed's DDIM path or an imported image's x_T (passed back unchanged); text models add the
   * document's prompt, negative prompt and guidance scale (the path, J and the guidance ε are taken at them).
   */
  source: ({ seed: number } | { xT: Float32TensorPayload }) & { prompt?: string; negativePrompt?: string; guidanceScale?: number };
  /** The exact timestep of the stack's entries. */
  timestep: number;
  /** DDIM steps of the document's schedule: x_t's path and the timestep picker. */
  steps: number;
  /** `prompt`: text models, the basis prompt J was taken at (absent: the document's prompt). */
  basis: { k: number; method: 'krylov' | 'subspace'; prompt?: string };
  edits: { index: number; strength: number }[];
  params: EditParams;
  /** Text-conditioned models have no η = 1 tail (the authors' quality boosting is for unconditional models). */
  textConditioned: boolean;
  provider: ProviderPreference;
  /**
   * Masked directions (issue 13): the mask's PNG (grey = weight) their basis was computed with. It is the basis's
   * `mask` (the same bytes, so the same cached basis of J·M) and the edit's `region` (every x_t update × M);
   * `keepOutside` is `regionBlend` (the picture outside taken from the unedited render). As `pullback edit --mask
   * FILE [--mask-blend]` with a `pullback basis --mask FILE` basis.
   */
  mask?: { png: Uint8Array; keepOutside: boolean };
}

/** Every edit parameter is sent explicitly, so the render never depends on a default the engine might change. */
export function applyJobInput(r: ApplyRequest): JobInput<'edit'> {
  return {
    modelDir: r.modelDir,
    ...r.source,
    timestep: r.timestep,
    steps: r.steps,
    basis: { k: r.basis.k, method: r.basis.method, ...(r.mask ? { mask: { image: r.mask.png as Uint8Array<ArrayBuffer> } } : {}) },
    ...(r.mask ? { region: { image: r.mask.png as Uint8Array<ArrayBuffer> }, regionBlend: r.mask.keepOutside } : {}),
    edits: r.edits.map((e) => ({ index: e.index, strength: e.strength })),
    mode: r.params.mode,
    composition: r.params.composition,
    guidanceSteps: r.params.guidanceSteps,
    scale: r.params.scale,
    delta: r.params.delta,
    alpha: r.params.alpha,
    boostFraction: r.textConditioned ? null : r.params.boostFraction,
    renderSteps: r.params.renderSteps,
    // Text models: guidance along ε at the edit prompt (absent: the document's prompt, as `pullback edit` without
    // --edit-prompt); an unconditional model would refuse it.
    ...(r.textConditioned && r.params.editPrompt !== null ? { editPrompt: r.params.editPrompt } : {}),
    // The basis the entries come from, at its own prompt (`pullback basis --basis-prompt`), so Apply loads that basis.
    ...(r.textConditioned && r.basis.prompt !== undefined ? { basisPrompt: r.basis.prompt } : {}),
    provider: r.provider,
  };
}

/**
 * The `edit` job of stack entries that carry their own direction (a global direction, issue 13): Apply's exact input
 * (shared/edit-job.ts applyJobInput, or its live-preview approximation) with the edits given as explicit
 * `{ direction, strength }` and no `basis` (nor its basis prompt: there is no local basis to load), so every other
 * parameter is exactly what an indexed entry would be rendered with. No Node imports (the renderer imports this file).
 */
import type { Float32TensorPayload, JobInput } from './api';

export interface ExplicitEdit {
  /** [1, …x] the direction as the engine takes it (a row of a global basis's V). */
  direction: Float32TensorPayload;
  strength: number;
}

/** `input` (built by applyJobInput or livePreviewJobInput) with `edits` replaced by explicit directions. */
export function withExplicitDirections(input: JobInput<'edit'>, edits: readonly ExplicitEdit[]): JobInput<'edit'> {
  const { basis: _basis, basisPrompt: _basisPrompt, ...rest } = input;
  return { ...rest, edits: edits.map((e) => ({ direction: e.direction, strength: e.strength })) };
}

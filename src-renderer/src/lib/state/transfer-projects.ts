/**
 * Saved projects as transfer targets (issue 13 item 3: "other documents of the project"; a project file holds one
 * document). A project of the same model whose source is a seed on the same DDIM path as this document (same steps,
 * and for text models the same prompt, negative prompt and guidance) is that seed: its x_t is exactly the one its
 * canvas shows. Any other is its unedited canvas picture, imported (inverted) like a dropped picture. A project of
 * another model, or without its picture, is refused with the reason.
 */
import type { OpenedProject } from '../../../../src-main/shared/project-api';
import { DEFAULT_GUIDANCE_SCALE } from './prompt.svelte';

/** How a saved project joins a transfer. */
export type ProjectTarget =
  | { kind: 'seed'; seed: number }
  | { kind: 'image'; name: string; bytes: Uint8Array; why: string }
  | { kind: 'refused'; problem: string };

/** The document the edit is transferred from: its model folder and its DDIM path's parameters. */
export interface TransferDocument {
  modelDir: string;
  steps: number;
  /** Text models: the document's prompt, negative prompt and guidance scale. */
  text?: { prompt?: string; negativePrompt?: string; guidanceScale?: number };
}

const sameText = (a: TransferDocument['text'], b: TransferDocument['text']): boolean =>
  (a?.prompt ?? '') === (b?.prompt ?? '') && (a?.negativePrompt ?? '') === (b?.negativePrompt ?? '') && (a?.guidanceScale ?? DEFAULT_GUIDANCE_SCALE) === (b?.guidanceScale ?? DEFAULT_GUIDANCE_SCALE);

export function projectTarget(p: Pick<OpenedProject, 'name' | 'manifest' | 'blobs'>, doc: TransferDocument): ProjectTarget {
  const m = p.manifest;
  if (m.model.dir !== doc.modelDir) return { kind: 'refused', problem: `“${p.name}” was made with the model ${m.model.name}, not this document's` };
  const s = m.source;
  if (s.kind === 'seed' && s.steps === doc.steps && sameText(s, doc.text)) return { kind: 'seed', seed: s.seed };
  const picture = m.images.source ?? (s.kind === 'image' ? s.blob : undefined);
  const bytes = picture ? p.blobs[picture] : undefined;
  if (!bytes) return { kind: 'refused', problem: `“${p.name}” has no saved picture to transfer to` };
  const why =
    s.kind === 'image'
      ? 'an imported picture'
      : s.steps !== doc.steps
        ? `seed ${s.seed} at ${s.steps} DDIM steps, this document has ${doc.steps}`
        : `seed ${s.seed} with another prompt`;
  return { kind: 'image', name: `${p.name}.png`, bytes, why };
}

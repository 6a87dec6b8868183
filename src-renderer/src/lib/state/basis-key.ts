/**
 * A basis within one document, as the galleries, the edit stack's entries and the project name it:
 * `t<timestep>-<method>-k<k>`, then `-m<sha256>` for a masked basis (the mask PNG's hash) and `-p<tag>` for a text
 * model's basis taken at its own basis prompt (the prompt text itself is kept with the gallery; the tag only keeps
 * keys of different prompts apart).
 */
export type BasisMethodChoice = 'krylov' | 'subspace';
export const METHOD_LABELS: Record<BasisMethodChoice, string> = { krylov: 'Fast (Krylov)', subspace: "Authors' (subspace iteration)" };

/** 8 hex digits of FNV-1a over the prompt's UTF-16 code units: synchronous, stable, enough to tell prompts apart. */
export function promptTag(prompt: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) {
    h ^= prompt.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export function basisKey(timestep: number, method: string, k: number, mask?: string | null, prompt?: string | null): string {
  return `t${timestep}-${method}-k${k}${mask ? `-m${mask}` : ''}${prompt !== undefined && prompt !== null ? `-p${promptTag(prompt)}` : ''}`;
}

export function parseBasisKey(key: string): { timestep: number; method: BasisMethodChoice; k: number; mask?: string; promptTag?: string } {
  const m = /^t(\d+)-(krylov|subspace)-k(\d+)(?:-m([0-9a-f]{64}))?(?:-p([0-9a-f]{8}))?$/.exec(key);
  if (!m) return { timestep: 0, method: 'krylov', k: 8 };
  return { timestep: Number(m[1]), method: m[2] as BasisMethodChoice, k: Number(m[3]), ...(m[4] ? { mask: m[4] } : {}), ...(m[5] ? { promptTag: m[5] } : {}) };
}

/**
 * Which mask blobs a project save keeps (manifest `masks`), and the history that goes with them. Every history entry
 * names its painted mask by hash and masked bases name theirs in their key, so a long painting session can refer to
 * more masks than a project file may hold (the service takes ≤ 64 blobs a save, the manifest lists ≤ 48 masks). The
 * current state's masks and the bases' always stay; older entries (then redo entries) are kept while their masks fit,
 * and the saved history starts after the first older entry that does not: undo never reaches a mask the file lacks.
 */
import type { DocState } from '../../../../src-main/shared/project-manifest';
import { parseBasisKey } from './galleries.svelte';

/** Masks per save: room left under the service's 64 blobs for the source, its renders and the analyses. */
export const MAX_SAVED_MASKS = 40;

/** The masks one document state refers to: its painted mask and its entries' masked bases. */
export function stateMasks(state: DocState): string[] {
  const out = state.mask ? [state.mask] : [];
  for (const e of state.edits) {
    const m = parseBasisKey(e.basisKey).mask;
    if (m) out.push(m);
  }
  return out;
}

export interface SavedMasks<H> {
  masks: string[];
  history: { entries: H[]; index: number };
}

/**
 * `known`: whether this session holds the mask's PNG (a hash without one is not listed; the entry still opens, without
 * its mask). Returns the masks to save and the history trimmed as above.
 */
export function masksToSave<H extends { state: DocState }>(history: { entries: H[]; index: number }, baseKeys: string[], known: (hash: string) => boolean, max = MAX_SAVED_MASKS): SavedMasks<H> {
  const { entries, index } = history;
  const kept = new Set<string>();
  const add = (hashes: string[], force: boolean): boolean => {
    const fresh = [...new Set(hashes.filter((h) => known(h) && !kept.has(h)))];
    if (!force && kept.size + fresh.length > max) return false;
    for (const h of fresh) kept.add(h);
    return true;
  };
  add(baseKeys.flatMap((k) => (parseBasisKey(k).mask ? [parseBasisKey(k).mask!] : [])), true);
  add(stateMasks(entries[index].state), true);
  let first = index;
  while (first > 0 && add(stateMasks(entries[first - 1].state), false)) first--;
  let last = index;
  while (last < entries.length - 1 && add(stateMasks(entries[last + 1].state), false)) last++;
  return { masks: [...kept], history: { entries: entries.slice(first, last + 1), index: index - first } };
}

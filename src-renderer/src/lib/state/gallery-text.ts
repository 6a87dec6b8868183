/**
 * The gallery's texts: the timing line (what the user waited for, and its parts) and the −/+ preview labels. Pure
 * functions of a gallery's stats, split from galleries.svelte.ts to keep that file to its state.
 */

export interface GalleryStats {
  iterations: number;
  converged: boolean;
  residual?: number;
  /** Seconds the basis took when it was computed (also on a cache hit: the original computation's). */
  seconds: number;
  cacheHit: boolean;
  products?: number;
  warmStarted?: boolean;
  /** The engine returned the previews it stored beside the cached basis: nothing was rendered. */
  previewsFromCache?: boolean;
  /** What the user waited for: from asking to the last preview, queueing included (absent for a restored gallery). */
  totalSeconds?: number;
}

/**
 * One duration for what the user waited for, and its parts (issue 16: "Computed in 19.9 s" used to be the basis
 * alone, and "From cache" was shown for a job whose previews took minutes).
 */
export function galleryTimingText(s: GalleryStats): string {
  const basis = s.cacheHit
    ? 'basis from the cache'
    : `basis computed in ${s.seconds.toFixed(1)} s${s.warmStarted ? ' (started from a neighbouring timestep)' : ''}`;
  if (s.totalSeconds === undefined) return basis.charAt(0).toUpperCase() + basis.slice(1);
  return `Done in ${s.totalSeconds.toFixed(1)} s: ${basis}, ${s.previewsFromCache ? 'previews from the cache' : 'the rest previews'}`;
}

/** "2", "0.5", "1.25": a strength without trailing zeros. */
export function formatStrength(s: number): string {
  return String(Number(s.toFixed(2)));
}

/** The enlarged view's label: "−2 · direction 3" (U+2212 minus, as the previews' labels). */
export function previewLabel(sign: -1 | 1, strength: number, index: number): string {
  return `${sign < 0 ? '\u2212' : '+'}${formatStrength(strength)} · direction ${index + 1}`;
}

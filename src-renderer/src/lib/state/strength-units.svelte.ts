/**
 * Strength you can predict (issue 13 item 5): each direction's gallery row reports its image change per unit strength
 * (`GalleryRow.change`, 8-bit levels), and with "equal-change units" on, the edit stack's sliders show strengths
 * scaled by that change relative to the mean of its gallery, so that equal slider values give roughly equal visual
 * change across directions. The document keeps the real strength (what Apply and `pullback edit` use); only the
 * fields show and take scaled values. A direction without a measurement (its previews not rendered) keeps real units.
 */
import type { Gallery } from './galleries.svelte';

/** change_i / mean change of the gallery's measured rows; null without a measurement. */
export function changeFactor(gallery: Gallery | undefined, index: number): number | null {
  const measured = gallery?.rows.filter((r) => r.change !== undefined && r.change > 0) ?? [];
  const row = measured.find((r) => r.index === index);
  if (!row || measured.length === 0) return null;
  const mean = measured.reduce((s, r) => s + r.change!, 0) / measured.length;
  return mean > 0 ? row.change! / mean : null;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

export class StrengthUnits {
  #equal = $state(false);

  /** Whether the stack shows equal-change units. */
  get equal(): boolean {
    return this.#equal;
  }
  set equal(v: boolean) {
    this.#equal = v;
  }

  /** The value a field shows for a real strength (scaled when on and measured). */
  shown(strength: number, factor: number | null): number {
    return this.#equal && factor ? round2(strength * factor) : strength;
  }

  /** The real strength for a value typed or dragged in a field. */
  strength(shown: number, factor: number | null): number {
    return this.#equal && factor ? shown / factor : shown;
  }
}

/**
 * The timestep × direction grid: the previews of every gallery of the document side by side, one column per
 * timestep (ascending), one row per direction, so one sees how a direction's edit changes with t.
 */
import type { ShownImage } from './images';

/** What the grid reads of a gallery (galleries.svelte.ts `Gallery`). */
export interface GridSource {
  key: string;
  timestep: number;
  k: number;
  method: string;
  strength: number;
  center?: ShownImage;
  rows: { index: number; sigma?: number; minus?: ShownImage; plus?: ShownImage }[];
}

export interface GridColumn {
  key: string;
  timestep: number;
  /** The strength the column's −/+ previews show (columns rendered at different strengths say so). */
  strength: number;
  center?: ShownImage;
}

export interface GridCell {
  sigma?: number;
  minus?: ShownImage;
  plus?: ShownImage;
}

export interface GalleryGrid {
  columns: GridColumn[];
  /** `cells[j]` belongs to `columns[j]`; null where that gallery has no such direction (a smaller k). */
  rows: { index: number; cells: (GridCell | null)[] }[];
}

/**
 * One column per timestep that has a gallery with at least one preview: where several bases exist at one timestep,
 * the one of the chosen method and k (the picker's), else the last computed. Rows: every direction index any column
 * has, ascending.
 */
export function galleryGrid(galleries: readonly GridSource[], method: string, k: number): GalleryGrid {
  const byTimestep = new Map<number, GridSource>();
  for (const g of galleries) {
    if (!g.rows.some((r) => r.minus || r.plus)) continue;
    const held = byTimestep.get(g.timestep);
    const chosen = (x: GridSource) => x.method === method && x.k === k;
    if (!held || !chosen(held) || chosen(g)) byTimestep.set(g.timestep, g);
  }
  const picked = [...byTimestep.values()].sort((a, b) => a.timestep - b.timestep);
  const indices = [...new Set(picked.flatMap((g) => g.rows.map((r) => r.index)))].sort((a, b) => a - b);
  return {
    columns: picked.map((g) => ({ key: g.key, timestep: g.timestep, strength: g.strength, ...(g.center ? { center: g.center } : {}) })),
    rows: indices.map((index) => ({
      index,
      cells: picked.map((g) => {
        const r = g.rows.find((x) => x.index === index);
        return r ? { sigma: r.sigma, minus: r.minus, plus: r.plus } : null;
      }),
    })),
  };
}

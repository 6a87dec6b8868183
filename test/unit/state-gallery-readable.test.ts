/**
 * The readable gallery (issue 13 item 6, issue 16 item 7) against the fake engine: the preview-strength control
 * reaches the gallery job and re-renders the shown gallery's previews from the cached basis; the enlarged view's
 * label and images; the timestep × direction grid's columns and rows.
 */
import { describe, expect, it } from 'vitest';
import { fakeApi, png, seededEditor } from './state-fake-api';
import { GALLERY_PREVIEW_STRENGTH, PREVIEW_STRENGTH_LIMITS } from '../../src-renderer/src/lib/state/gallery-strength';
import { galleryGrid, type GridSource } from '../../src-renderer/src/lib/state/gallery-grid';

const galleryInputs = (calls: { name: string; input: Record<string, unknown> }[]) => calls.filter((c) => c.name === 'gallery').map((c) => c.input);
/** The fake engine's preview pixel codes (state-fake-api.ts): − and + encode the strength in quarters and the index. */
const minusCode = (strength: number, index: number) => png(10000 + 100 * Math.round(strength * 4) + index);
const plusCode = (strength: number, index: number) => png(15000 + 100 * Math.round(strength * 4) + index);

describe('gallery preview strength', () => {
  it('starts at the documented default, which is larger than 1 so the previews show the edit', async () => {
    const { api, calls } = fakeApi();
    const ed = await seededEditor(api);
    expect(ed.galleries.previewStrength).toBe(GALLERY_PREVIEW_STRENGTH);
    expect(GALLERY_PREVIEW_STRENGTH).toBeGreaterThan(1);
    ed.edits.setTimestep(555);
    await ed.computeBasis();
    expect(galleryInputs(calls).map((i) => i.strength)).toEqual([GALLERY_PREVIEW_STRENGTH]);
    expect(ed.galleries.current?.strength).toBe(GALLERY_PREVIEW_STRENGTH);
    expect(ed.galleries.current?.rows[0].plus?.bytes).toEqual(plusCode(GALLERY_PREVIEW_STRENGTH, 0));
  });

  it('a new strength re-renders the shown gallery from its cached basis, at that strength', async () => {
    const { api, calls } = fakeApi();
    const ed = await seededEditor(api);
    ed.edits.setTimestep(555);
    await ed.computeBasis();
    const first = ed.galleries.current!;
    // The fields moved since: the re-render is still of the shown gallery's k and method.
    ed.galleries.k = 5;
    await ed.galleries.setPreviewStrength(1.5);
    const [, again] = galleryInputs(calls);
    expect(again).toMatchObject({ strength: 1.5, k: first.k, method: first.method, timestep: 555, seed: 42, cacheId: first.cacheId });
    const g = ed.galleries.current!;
    expect(g.key).toBe(first.key);
    expect(g.strength).toBe(1.5);
    expect(g.rows.map((r) => r.minus?.bytes)).toEqual([minusCode(1.5, 0), minusCode(1.5, 1)]);
    expect(g.rows.map((r) => r.plus?.bytes)).toEqual([plusCode(1.5, 0), plusCode(1.5, 1)]);
    // The export strip says the strength its previews show.
    expect(ed.stripParts(0)?.text.Directions).toMatch(/at -1.5, 0, \+1.5/);
  });

  it('clamps to its limits, and the same strength again or no computed gallery starts no job', async () => {
    const { api, calls } = fakeApi();
    const ed = await seededEditor(api);
    // The seeded document's gallery comes from a project: σ only, no cached basis to re-render from.
    await ed.galleries.setPreviewStrength(1000);
    expect(ed.galleries.previewStrength).toBe(PREVIEW_STRENGTH_LIMITS.max);
    await ed.galleries.setPreviewStrength(-4);
    expect(ed.galleries.previewStrength).toBe(PREVIEW_STRENGTH_LIMITS.min);
    await ed.galleries.setPreviewStrength(Number.NaN);
    expect(ed.galleries.previewStrength).toBe(PREVIEW_STRENGTH_LIMITS.min);
    expect(galleryInputs(calls)).toEqual([]);
    ed.edits.setTimestep(555);
    await ed.computeBasis();
    await ed.galleries.setPreviewStrength(PREVIEW_STRENGTH_LIMITS.min);
    expect(galleryInputs(calls)).toHaveLength(1);
  });
});

describe('enlarged preview', () => {
  it('shows the clicked preview against the centre, labelled with its sign, strength and direction', async () => {
    const { api } = fakeApi();
    const ed = await seededEditor(api);
    ed.edits.setTimestep(555);
    await ed.computeBasis();
    const g = ed.galleries.current!;
    ed.galleries.enlarge(1, -1);
    expect(ed.galleries.enlarged?.label).toBe(`\u2212${GALLERY_PREVIEW_STRENGTH} · direction 2`);
    expect(ed.galleries.enlarged?.image.bytes).toEqual(minusCode(GALLERY_PREVIEW_STRENGTH, 1));
    expect(ed.galleries.enlarged?.center).toBe(g.center);
    // Re-rendered at another strength, the enlarged view follows.
    await ed.galleries.setPreviewStrength(0.5);
    expect(ed.galleries.enlarged?.label).toBe('\u22120.5 · direction 2');
    expect(ed.galleries.enlarged?.image.bytes).toEqual(minusCode(0.5, 1));
    ed.galleries.enlarge(0, 1);
    expect(ed.galleries.enlarged?.label).toBe('+0.5 · direction 1');
    ed.galleries.closeEnlarged();
    expect(ed.galleries.enlarged).toBeNull();
    // Replacing the document drops the view with the galleries.
    ed.galleries.enlarge(0, 1);
    ed.galleries.clear();
    expect(ed.galleries.enlarged).toBeNull();
  });
});

describe('timestep × direction grid', () => {
  it('lays the document’s galleries out by timestep (columns, ascending) and direction (rows)', async () => {
    const { api } = fakeApi();
    const ed = await seededEditor(api);
    expect(ed.galleries.grid.columns).toEqual([]); // the restored gallery has σ but no previews
    ed.galleries.k = 3;
    ed.edits.setTimestep(700);
    await ed.computeBasis();
    ed.galleries.k = 2;
    ed.edits.setTimestep(300);
    await ed.computeBasis();
    const grid = ed.galleries.grid;
    expect(grid.columns.map((c) => c.timestep)).toEqual([ed.galleries.list.find((g) => g.k === 2 && g.rows[0]?.plus)!.timestep, ed.galleries.list.find((g) => g.k === 3)!.timestep]);
    expect(grid.columns[0].timestep).toBeLessThan(grid.columns[1].timestep);
    expect(grid.rows.map((r) => r.index)).toEqual([0, 1, 2]);
    // Direction 3 exists only at the k = 3 timestep.
    expect(grid.rows[2].cells[0]).toBeNull();
    expect(grid.rows[2].cells[1]?.plus?.bytes).toEqual(plusCode(GALLERY_PREVIEW_STRENGTH, 2));
    expect(grid.rows[0].cells.map((c) => c?.sigma)).toEqual([2, 3]);
  });

  it('keeps one column per timestep: the picker’s method and k, else the last computed', () => {
    const shown = { mime: 'image/png' as const, width: 1, height: 1, bytes: png(1) };
    const g = (key: string, timestep: number, k: number, method = 'krylov'): GridSource => ({
      key,
      timestep,
      k,
      method,
      strength: 2,
      rows: Array.from({ length: k }, (_, index) => ({ index, sigma: 1, plus: shown })),
    });
    const list = [g('a', 500, 2), g('b', 500, 4), g('c', 500, 2, 'subspace'), g('d', 400, 1), { ...g('e', 300, 2), rows: [{ index: 0, sigma: 1 }] }];
    expect(galleryGrid(list, 'krylov', 4).columns.map((c) => c.key)).toEqual(['d', 'b']);
    expect(galleryGrid(list, 'krylov', 2).columns.map((c) => c.key)).toEqual(['d', 'a']);
    expect(galleryGrid(list, 'krylov', 8).columns.map((c) => c.key)).toEqual(['d', 'c']);
    expect(galleryGrid(list, 'krylov', 4).rows.map((r) => r.cells.map((c) => c !== null))).toEqual([
      [true, true],
      [false, true],
      [false, true],
      [false, true],
    ]);
  });
});

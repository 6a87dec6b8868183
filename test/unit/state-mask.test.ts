/**
 * The painted mask (issue 13 item 2): the brush's stamps with a feathered edge, the eraser, invert, a loaded picture
 * resampled to the image's size, the PNG the jobs receive (decoded back to the same levels), strokes as undo steps,
 * and through EditorState against the fake engine: the masked gallery (its own key, the mask sent), Apply's region
 * and "keep outside", and the mask kept by a project save and reopened.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { EditStack } from '../../src-renderer/src/lib/state/edit-stack.svelte';
import { Schedule } from '../../src-renderer/src/lib/state/schedule.svelte';
import { MaskState } from '../../src-renderer/src/lib/state/mask.svelte';
import { levelsFromRgba, stamp, stampCoverage, emptyLevels } from '../../src-renderer/src/lib/state/mask-brush';
import { decodeMaskPng, encodeMaskPng } from '../../src-renderer/src/lib/state/mask-png';
import { masksToSave } from '../../src-renderer/src/lib/state/mask-project';
import { basisKey, parseBasisKey } from '../../src-renderer/src/lib/state/galleries.svelte';
import type { DocState } from '../../src-main/shared/project-manifest';
import { ProjectManifestSchema } from '../../src-main/shared/project-manifest';
import { decodeProject, encodeProject } from '../../src-main/core/project';
import { fakeApi, seededEditor } from './state-fake-api';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { parseRecipe, recipeMaskPng } from '../../src-renderer/src/lib/state/recipe';
import { addPngText, readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';

const W = 32;

function painter(size = { width: W, height: W }) {
  const edits = new EditStack(
    new Schedule(
      () => 10,
      () => 1000,
    ),
    () => undefined,
  );
  const mask = new MaskState({ doc: () => edits.doc, commit: (l, n) => edits.commit(l, n), size: () => size });
  return { edits, mask };
}

const at = (m: { width: number; data: Uint8Array }, x: number, y: number) => m.data[y * m.width + x];

describe('mask brush', () => {
  it('a feathered stamp is 255 in its core, 0 beyond its radius, in between on the soft edge; a hard one only 0/255', () => {
    expect(stampCoverage(0, 8, 0.5)).toBe(1);
    expect(stampCoverage(4, 8, 0.5)).toBe(1);
    expect(stampCoverage(8, 8, 0.5)).toBe(0);
    const mid = stampCoverage(6, 8, 0.5);
    expect(mid).toBeGreaterThan(0.1);
    expect(mid).toBeLessThan(0.9);
    expect(stampCoverage(5, 8, 0.5)).toBeGreaterThan(stampCoverage(7, 8, 0.5));

    const soft = emptyLevels(W, W);
    expect(stamp(soft, 16, 16, 8, 0.5, 'brush')).toBe(true);
    expect(at(soft, 16, 16)).toBe(255);
    expect(at(soft, 16 + 9, 16)).toBe(0);
    // Pixel centre 21.5 is 5.5 from the stamp's centre: on the soft edge (core 4, radius 8).
    expect(at(soft, 21, 16)).toBeGreaterThan(0);
    expect(at(soft, 21, 16)).toBeLessThan(255);

    const hard = emptyLevels(W, W);
    stamp(hard, 16, 16, 8, 0, 'brush');
    expect(new Set(hard.data)).toEqual(new Set([0, 255]));
  });

  it('the eraser lowers levels (soft at its edge) and leaves the rest alone; painting again never darkens', () => {
    const m = emptyLevels(W, W);
    stamp(m, 16, 16, 12, 0, 'brush');
    stamp(m, 16, 16, 12, 0.5, 'brush'); // max: the soft stamp over the hard one keeps 255
    expect(at(m, 21, 16)).toBe(255);
    stamp(m, 16, 16, 6, 0.5, 'eraser');
    expect(at(m, 16, 16)).toBe(0);
    expect(at(m, 20, 16)).toBeGreaterThan(0); // 4.5 from the centre: on the eraser's soft edge
    expect(at(m, 20, 16)).toBeLessThan(255);
    expect(at(m, 25, 16)).toBe(255); // outside the eraser
  });

  it('a loaded picture becomes levels at the image size: luma × alpha, resampled', () => {
    // 4 × 2 RGBA: left half white, right half black; bottom-left pixel transparent white.
    const rgba = new Uint8Array(4 * 2 * 4);
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 4; x++) {
        const i = 4 * (y * 4 + x);
        const v = x < 2 ? 255 : 0;
        rgba.set([v, v, v, x === 0 && y === 1 ? 0 : 255], i);
      }
    const m = levelsFromRgba({ width: 4, height: 2, data: rgba }, 16, 16);
    expect([m.width, m.height, m.data.length]).toEqual([16, 16, 256]);
    expect(at(m, 4, 0)).toBe(255);
    expect(at(m, 15, 0)).toBe(0);
    expect(at(m, 15, 15)).toBe(0);
    expect(at(m, 0, 15)).toBe(0); // transparent: flattened onto black
    expect(at(m, 5, 15)).toBeGreaterThan(200); // the opaque white pixel beside it, blended bilinearly
  });

  it('the PNG sent decodes (by us and by zlib) to the same levels; other PNG kinds are refused', () => {
    const m = emptyLevels(W, 20);
    stamp(m, 10, 10, 7, 0.6, 'brush');
    const png = encodeMaskPng(m);
    expect(decodeMaskPng(png)).toEqual(m);
    // Independently of our decoder: IDAT inflated by Node's zlib holds each row behind a filter byte 0.
    const len = new DataView(png.buffer, png.byteOffset).getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + len));
    expect(raw[W + 1 + 10 + 1]).toBe(at(m, 10, 1));
    expect(raw.length).toBe((W + 1) * 20);
    const rgb = png.slice();
    rgb[25] = 2; // colour type 2 (RGB): not a mask PNG of ours
    expect(decodeMaskPng(rgb)).toBeNull();
  });
});

describe('MaskState', () => {
  it('a stroke is one history entry naming its PNG by sha256; undo and redo restore the mask', async () => {
    const { edits, mask } = painter();
    expect(mask.levels).toBeNull();
    mask.size = 6;
    mask.feather = 0;
    mask.begin(4, 4);
    mask.moveTo(28, 4);
    expect(mask.painting).toBe(true);
    await mask.end();
    expect(edits.history.entries.map((e) => e.label)).toEqual(['New', 'Paint mask']);
    const hash = edits.doc.mask!;
    expect(hash).toBe(createHash('sha256').update(mask.png(hash)!).digest('hex'));
    expect(mask.current?.hash).toBe(hash);
    // The segment between the two points is painted, not only its ends.
    expect(at(mask.levels!, 16, 4)).toBe(255);
    expect(at(mask.levels!, 16, 12)).toBe(0);

    mask.tool = 'eraser';
    mask.begin(16, 4);
    await mask.end();
    expect(at(mask.levels!, 16, 4)).toBe(0);
    expect(edits.history.entries.at(-1)?.label).toBe('Erase mask');
    edits.undo();
    expect(at(mask.levels!, 16, 4)).toBe(255);
    edits.undo();
    expect(mask.levels).toBeNull();
    edits.redo();
    expect(mask.current?.hash).toBe(hash);
  });

  it('invert flips the levels, clear removes the mask, keep-outside is an undo step', async () => {
    const { edits, mask } = painter();
    await mask.invert(); // no mask: everything selected
    expect(mask.levels!.data.every((v) => v === 255)).toBe(true);
    mask.tool = 'eraser';
    mask.size = 8;
    mask.feather = 0.5;
    mask.begin(16, 16);
    await mask.end();
    const before = mask.levels!.data.slice();
    await mask.invert();
    expect(Array.from(mask.levels!.data)).toEqual(Array.from(before, (v) => 255 - v));
    mask.setKeepOutside(true);
    expect(mask.keepOutside).toBe(true);
    await mask.clear();
    expect(mask.current).toBeNull();
    expect(edits.doc.keepOutside).toBe(true);
    expect(edits.history.entries.map((e) => e.label)).toEqual(['New', 'Invert mask', 'Erase mask', 'Invert mask', 'Keep outside the mask exactly', 'Clear mask']);
  });

  it('a mask is kept in the basis key: masked and unmasked bases of one timestep are two galleries', () => {
    const h = 'a'.repeat(64);
    expect(basisKey(555, 'krylov', 2)).toBe('t555-krylov-k2');
    expect(parseBasisKey(basisKey(555, 'krylov', 2, h))).toEqual({ timestep: 555, method: 'krylov', k: 2, mask: h });
    expect(parseBasisKey('t555-krylov-k2')).toEqual({ timestep: 555, method: 'krylov', k: 2 });
  });

  it('a save keeps the masks the current state and bases need, and trims older history beyond the cap', () => {
    const hex = (i: number) => i.toString(16).padStart(64, '0');
    const entry = (mask?: number): { state: DocState } => ({ state: { timestep: null, edits: [], ...(mask ? { mask: hex(mask) } : {}) } });
    const history = { entries: [entry(), entry(1), entry(2), entry(3), entry(4)], index: 3 };
    const out = masksToSave(history, [basisKey(5, 'krylov', 2, hex(9))], () => true, 3);
    expect(out.masks.sort()).toEqual([hex(2), hex(3), hex(9)]);
    expect(out.history.entries.map((e) => e.state.mask)).toEqual([hex(2), hex(3)]);
    expect(out.history.index).toBe(1);
    const all = masksToSave(history, [], () => true);
    expect(all.history.entries).toHaveLength(5);
    expect(all.history.index).toBe(3);
  });
});

describe('EditorState with a mask', () => {
  it('computes the masked gallery (mask sent, own key), applies with region and keep-outside, saves and reopens the mask', async () => {
    const f = fakeApi();
    const ed = await seededEditor(f.api);
    ed.mask.begin(0.5, 0.5);
    await ed.mask.end();
    const m = ed.mask.current!;
    expect(m).not.toBeNull();
    ed.galleries.k = 2;
    await ed.computeBasis();
    const gallery = f.calls.filter((c) => c.name === 'gallery').at(-1)!;
    expect((gallery.input.mask as { image: Uint8Array }).image).toEqual(m.png);
    expect(ed.galleries.current?.key).toBe(basisKey(ed.edits.timestep, 'krylov', 2, m.hash));
    expect(ed.galleries.current?.mask).toBe(m.hash);

    ed.addDirection(0);
    ed.mask.setKeepOutside(true);
    await ed.apply();
    const edit = f.calls.filter((c) => c.name === 'edit').at(-1)!.input as Record<string, { image?: Uint8Array; mask?: { image: Uint8Array } } | boolean>;
    expect((edit.basis as { mask: { image: Uint8Array } }).mask.image).toEqual(m.png);
    expect((edit.region as { image: Uint8Array }).image).toEqual(m.png);
    expect(edit.regionBlend).toBe(true);

    // Cleared mask: the unmasked basis at the same timestep is another gallery; the masked one stays listed.
    await ed.mask.clear();
    await ed.computeBasis();
    expect(f.calls.filter((c) => c.name === 'gallery').at(-1)!.input.mask).toBeUndefined();
    expect(ed.galleries.current?.mask).toBeUndefined();
    expect(ed.galleries.list.filter((g) => g.timestep === ed.edits.timestep).map((g) => Boolean(g.mask)).sort()).toEqual([false, true]);
    // The stack's masked entry still applies with its own basis's mask, not with what is painted now (nothing).
    await ed.apply();
    expect(((f.calls.filter((c) => c.name === 'edit').at(-1)!.input.region ?? {}) as { image?: Uint8Array }).image).toEqual(m.png);

    // The grid shows one operator: without a mask the unmasked galleries…
    expect(ed.galleries.grid.columns.map((c) => parseBasisKey(c.key).mask)).toEqual([undefined]);
    ed.edits.undo(); // the mask is back
    expect(ed.mask.current?.hash).toBe(m.hash);
    // …with it, its masked ones.
    expect(ed.galleries.grid.columns.map((c) => parseBasisKey(c.key).mask)).toEqual([m.hash]);
    const c = (await ed.files.content())!;
    // (bases left out: the fake engine's cache ids are not the engine's sha256 ids)
    expect(ProjectManifestSchema.safeParse({ ...c.manifest, bases: [] }).error?.issues).toBeUndefined();
    expect(c.manifest.masks).toEqual([m.hash]);
    expect(c.blobs[m.hash]).toEqual(m.png);
    expect(c.manifest.state.mask).toBe(m.hash);
    // The project format keeps the mask blob (manifest `masks` is a reference: only referenced blobs are written).
    const file = encodeProject({ manifest: { ...c.manifest, bases: [] }, blobs: new Map(Object.entries(c.blobs)) });
    const back = decodeProject(file);
    expect(back.manifest.masks).toEqual([m.hash]);
    expect(back.manifest.state.mask).toBe(m.hash);
    expect(back.blobs.get(m.hash)).toEqual(m.png);
    expect(await ed.files.saveAs({ name: 'masked' })).toBe(true);

    const ed2 = await seededEditor(f.api);
    expect(ed2.mask.current).toBeNull();
    expect(await ed2.files.open('id-masked')).toBe(true);
    expect(ed2.mask.current).toEqual(m);
    expect(ed2.galleries.list.some((g) => g.mask === m.hash)).toBe(true);
  });

  it('the exported recipe carries the mask: restoring it applies the masked directions with the mask and keep-outside', async () => {
    const f = fakeApi();
    const ed = await seededEditor(f.api);
    ed.mask.begin(0.5, 0.5);
    await ed.mask.end();
    const m = ed.mask.current!;
    ed.galleries.k = 2;
    await ed.computeBasis();
    ed.addDirection(0);
    ed.mask.setKeepOutside(true);
    await ed.apply();
    const out = ed.exportPng()!;
    const recipe = parseRecipe(readPngText(out.bytes)[RECIPE_KEY])!;
    expect(recipe.mask?.keepOutside).toBe(true);
    expect(recipeMaskPng(recipe)).toEqual(m.png);

    const g = fakeApi();
    const fresh = new EditorState(g.api);
    await fresh.load();
    await fresh.importFile('masked.png', out.bytes);
    await fresh.restoreRecipe();
    const edit = g.calls.filter((c) => c.name === 'edit').at(-1)!.input as Record<string, unknown>;
    expect((edit.region as { image: Uint8Array }).image).toEqual(m.png);
    expect(edit.regionBlend).toBe(true);
    expect(fresh.mask.current?.hash).toBe(m.hash);
    // A recipe whose mask is not the one its key names is not trusted with it: no edit, a notice instead.
    const tampered = { ...recipe, mask: { png: Buffer.from(encodeMaskPng({ width: 2, height: 2, data: new Uint8Array([255, 0, 0, 255]) })).toString('base64'), keepOutside: true } };
    const h = fakeApi();
    const other = new EditorState(h.api);
    await other.load();
    await other.importFile('tampered.png', addPngText(out.bytes, { [RECIPE_KEY]: JSON.stringify(tampered) }));
    await other.restoreRecipe();
    expect(h.calls.filter((c) => c.name === 'edit')).toHaveLength(0);
    expect(other.notices.list.map((n) => n.text).join(' ')).toContain('mask these directions were computed with is missing');
  });
});

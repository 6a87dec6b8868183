/**
 * The small state classes on their own: Schedule (snapping through the engine's snapToSchedule, compared with the
 * page's former own copy), EditStack (what is an undo step, what marks the result stale, what Apply takes),
 * RenderResult (the render cache) and Project (title, recovery slot).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ddimTimestepsAscending, snapToSchedule } from '../../src-main/shared/schedule';
import { Schedule } from '../../src-renderer/src/lib/state/schedule.svelte';
import { Source } from '../../src-renderer/src/lib/state/source.svelte';
import { EditStack } from '../../src-renderer/src/lib/state/edit-stack.svelte';
import { MAX_CACHED_RENDERS, RenderResult } from '../../src-renderer/src/lib/state/result.svelte';
import { Project } from '../../src-renderer/src/lib/state/project.svelte';

describe('Schedule', () => {
  it('snaps with the engine’s snapToSchedule: a step of the schedule, junk steps as one step, fractions clamped', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -3, max: 1200 }), fc.constantFrom<unknown>('', null, '10', 10.5, Number.NaN)),
        fc.constantFrom(1000, 50, 1),
        fc.oneof(fc.double({ min: -0.5, max: 1.5, noNaN: true }), fc.constantFrom(0, 0.5, 0.6, 1, Number.NaN)),
        (steps, T, fraction) => {
          const s = new Schedule(
            () => steps,
            () => T,
          );
          const t = s.snap(fraction);
          expect(s.timesteps).toContain(t);
          const n = Math.min(Number(steps), T);
          const valid = Number.isInteger(n) && n >= 1;
          if (!valid) expect(s.timesteps).toEqual([T - 1]);
          const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
          expect(t).toBe(snapToSchedule(clamped, valid ? n : 1, T));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('agrees with a job given t: nearness on the float schedule (the page’s former copy said 605 here)', () => {
    const s = new Schedule(
      () => 100,
      () => 1000,
    );
    expect(s.snap(0.6)).toBe(595);
  });

  it('follows the steps field', () => {
    const source = new Source();
    const s = new Schedule(
      () => source.steps,
      () => 1000,
    );
    source.steps = 10;
    expect(s.timesteps).toEqual(ddimTimestepsAscending(10, 1000));
    (source as unknown as { steps: unknown }).steps = '';
    expect(s.timesteps).toEqual([999]);
    source.steps = 4;
    expect(s.timesteps).toEqual([0, 333, 666, 999]);
    expect(s.trainTimesteps).toBe(1000);
  });
});

function stack() {
  const s = new Schedule(
    () => 10,
    () => 1000,
  );
  let changes = 0;
  const edits = new EditStack(s, () => (changes += 1));
  return { edits, changes: () => changes };
}

describe('EditStack', () => {
  it('starts at the default timestep; moving the picker is one undo step per drag and does not stale the result', () => {
    const { edits, changes } = stack();
    expect(edits.timestep).toBe(555);
    edits.setTimestep(300);
    edits.setTimestep(450);
    edits.endDrag();
    expect(edits.timestep).toBe(444);
    expect(edits.history.entries.map((e) => e.label)).toEqual(['New', 'Timestep 444']);
    expect(edits.stale).toBe(false);
    expect(changes()).toBe(2);
    edits.setTimestep(440); // the same step: nothing
    expect(changes()).toBe(2);
    edits.setTimestep(300); // a new drag: a new step
    expect(edits.history.entries.map((e) => e.label)).toEqual(['New', 'Timestep 444', 'Timestep 333']);
  });

  it('applies the enabled, non-zero entries of the first one’s timestep and basis', () => {
    const { edits } = stack();
    edits.add({ key: 't555-krylov-k2', timestep: 555 }, 0);
    edits.add({ key: 't555-krylov-k2', timestep: 555 }, 1);
    edits.add({ key: 't333-krylov-k2', timestep: 333 }, 0);
    edits.add({ key: 't555-subspace-k2', timestep: 555 }, 0);
    const [a, b] = edits.doc.edits;
    expect(edits.applicable).toMatchObject({ t: 555, skipped: 2 });
    expect(edits.applicable!.edits.map((e) => e.id)).toEqual([a.id, b.id]);
    edits.setStrength(a.id, 0);
    edits.toggle(b.id);
    expect(edits.applicable).toMatchObject({ t: 333, skipped: 1 });
    expect(edits.stale).toBe(true);
    edits.markApplied();
    expect(edits.stale).toBe(false);
  });

  it('undo/redo/jump say whether they moved, and a move marks the result stale', () => {
    const { edits, changes } = stack();
    expect(edits.undo()).toBe(false);
    expect(edits.redo()).toBe(false);
    edits.add({ key: 't555-krylov-k2', timestep: 555 }, 0);
    edits.markApplied();
    const before = changes();
    expect(edits.undo()).toBe(true);
    expect(edits.stale).toBe(true);
    expect(changes()).toBe(before + 1);
    expect(edits.jumpTo(5)).toBe(false);
    expect(edits.jumpTo(1)).toBe(true);
    expect(edits.doc.edits).toHaveLength(1);
  });
});

describe('RenderResult', () => {
  const image = (v: number) => ({ bytes: new Uint8Array([v]), width: 1, height: 1 });

  it('renders a key once, shows it again from the cache, and forgets the oldest beyond the cap', async () => {
    const r = new RenderResult();
    let renders = 0;
    const render = (v: number) => async () => (renders++, image(v));
    expect(await r.show('a', render(1))).toBe(true);
    expect(await r.show('b', render(2))).toBe(true);
    expect(await r.show('a', render(99))).toBe(false);
    expect(r.image!.bytes[0]).toBe(1);
    expect(renders).toBe(2);
    for (let i = 2; i < MAX_CACHED_RENDERS; i++) await r.show(`k${i}`, render(3));
    expect(await r.show('a', render(4))).toBe(false); // full, nothing forgotten yet
    await r.show('one more', render(5));
    expect(await r.show('b', render(6))).toBe(false);
    expect(await r.show('a', render(7))).toBe(true); // the first rendered went first
    r.showNone();
    expect(r.image).toBeNull();
    r.clear();
    expect(await r.show('b', render(8))).toBe(true);
  });

  it('a failed render changes nothing', async () => {
    const r = new RenderResult();
    await r.show('a', async () => image(1));
    await expect(r.show('b', async () => Promise.reject(new Error('engine')))).rejects.toThrow('engine');
    expect(r.image!.bytes[0]).toBe(1);
  });
});

describe('Project', () => {
  it('titles the document and keeps unsaved work in a slot the next document does not reuse', () => {
    let touched = 0;
    const p = new Project(() => (touched += 1));
    expect(p.title).toBe('Untitled');
    p.startNew('face');
    expect([p.title, p.dirty, touched]).toEqual(['face •', true, 1]);
    const slot = p.session;
    p.keptInRecovery();
    expect(p.session).not.toBe(slot);
    expect(p.dirty).toBe(false);
    p.opened({ id: 'x', name: 'newer', readOnly: true, createdAt: '2020-01-01T00:00:00.000Z' });
    expect([p.title, p.id, p.createdAt]).toEqual(['newer (read-only)', 'x', '2020-01-01T00:00:00.000Z']);
    p.saved({ id: 'y', name: 'copy' });
    expect([p.title, p.readOnly, p.dirty, typeof p.lastSaved]).toEqual(['copy', false, false, 'string']);
    p.close();
    expect([p.title, p.id, p.dirty]).toEqual(['Untitled', null, false]);
    expect(touched).toBe(1);
  });
});

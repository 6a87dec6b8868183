/**
 * The editor never loses work or lies about it (issue 16), against the fake engine: replacing unsaved work asks
 * Save / Discard / Cancel (Cancel changes nothing); the same directions request joins the running job and another one
 * supersedes it with a notice; New for the same seed joins, another seed supersedes; autosave keeps the document in
 * the page's storage while the engine cannot be reached and writes it once the connection is back; Mod+Z in a
 * number field is the field's own; `?` closes Help as well as opening it.
 */
import { describe, expect, it, vi } from 'vitest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { CommandDispatcher } from '../../src-renderer/src/lib/command-dispatcher.svelte';
import type { StorageLike } from '../../src-renderer/src/lib/state/local-recovery';
import type { ConnectionSource } from '../../src-renderer/src/lib/state/connection.svelte';
import type { ConnectionStatus } from '../../src-main/shared/ws-client';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import { ApiError } from '../../src-main/shared/errors';
import { fakeApi, png, seededEditor } from './state-fake-api';

const img = (v: number) => ({ mime: 'image/png' as const, width: 1, height: 1, bytes: png(v) });

/**
 * The fake engine plus jobs that wait for the test: `gallery` and (with `holdGenerate`) `generate` jobs stay running
 * until `finish(jobId)`; cancelJob ends them cancelled, like the engine.
 */
function engine(opts: { holdGenerate?: boolean } = {}) {
  const f = fakeApi();
  const listeners = new Set<(e: JobEvent) => void>();
  f.api.onJobEvent((e) => listeners.forEach((l) => l(e)));
  const held = new Map<string, { name: string; input: Record<string, unknown> }>();
  const cancelled: string[] = [];
  let n = 0;
  const emit = (e: JobEvent) => listeners.forEach((l) => l(e));
  const startJob = f.api.startJob.bind(f.api);
  let online = true;
  const api: PullbackApi = {
    ...f.api,
    onJobEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    project: async (req) => {
      if (!online) throw new ApiError({ code: 'disconnected', message: 'not connected to the engine' });
      return f.api.project(req);
    },
    startJob: async (name, input) => {
      if (name !== 'gallery' && !(name === 'generate' && opts.holdGenerate)) return startJob(name, input);
      const jobId = `held${++n}`;
      held.set(jobId, { name, input: input as Record<string, unknown> });
      f.calls.push({ name, input: input as Record<string, unknown> });
      queueMicrotask(() => emit({ type: 'progress', jobId, fraction: 0.1, message: 'working' }));
      return { jobId };
    },
    cancelJob: async (jobId) => {
      if (!held.delete(jobId)) return;
      cancelled.push(jobId);
      emit({ type: 'error', jobId, error: { code: 'cancelled', message: 'cancelled' } });
    },
  };
  const finish = (jobId: string) => {
    const j = held.get(jobId)!;
    held.delete(jobId);
    const i = j.input;
    const output =
      j.name === 'generate'
        ? { images: [img(Number(i.seed))], provider: 'cpu', timesteps: [], elapsedMs: 1 }
        : {
            timestep: i.timestep,
            basis: { timestep: i.timestep, method: 'krylov', iterations: 3, converged: true, jacobianProducts: { jvp: 1, vjp: 1, total: 2 }, residuals: [1e-4], seconds: 1, tol: 1e-3, seed: 0, hTensor: 'h', modelHash: 'm', cacheHit: false, cacheId: 'c' },
            center: img(7),
            items: [{ index: 0, sigma: 2, minus: img(1), plus: img(2), heat: img(3) }],
            elapsedMs: 1,
          };
    emit({ type: 'done', jobId, name: j.name as never, output: output as never });
  };
  const setOnline = (v: boolean) => (online = v);
  return { ...f, api, held, cancelled, finish, setOnline };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

async function editedDocument(e: ReturnType<typeof engine>, options = {}) {
  const ed = await seededEditor(e.api, options);
  ed.addDirection(0);
  return ed;
}

describe('replacing unsaved work asks first', () => {
  it('Cancel keeps the document and starts nothing; Discard goes on; a clean document is not asked about', async () => {
    const e = engine();
    const ed = await editedDocument(e);
    const before = { image: ed.shownImage, doc: ed.edits.doc, title: ed.project.title, jobs: e.calls.length };

    const importing = ed.importFile('cat.png', png(9));
    expect(ed.guard.prompt).toEqual({ what: 'Import cat.png', title: 'Untitled', needsName: true });
    ed.guard.answer({ choice: 'cancel' });
    await importing;
    expect({ image: ed.shownImage, doc: ed.edits.doc, title: ed.project.title, jobs: e.calls.length }).toEqual(before);
    expect(ed.project.title).toBe('Untitled •');

    // Open and Recover ask the same way.
    const opening = ed.files.open('p1');
    expect(ed.guard.prompt?.what).toBe('Open');
    ed.guard.answer({ choice: 'cancel' });
    await expect(opening).resolves.toBe(false);
    const recovering = ed.files.recover('s1');
    expect(ed.guard.prompt?.what).toBe('Recover');
    ed.guard.answer({ choice: 'cancel' });
    await recovering;
    expect(e.projectCalls.filter((r) => r.op === 'open' || r.op === 'recovery.open')).toEqual([]);

    ed.source.seed = 43;
    const replacing = ed.newFromSeed();
    ed.guard.answer({ choice: 'discard' });
    await replacing;
    expect(ed.source.current).toEqual({ kind: 'seed', seed: 43 });
    ed.source.seed = 44;
    await ed.newFromSeed(); // nothing changed since: no question
    expect(ed.guard.prompt).toBeNull();
    expect(ed.source.current).toEqual({ kind: 'seed', seed: 44 });
  });

  it('Save saves under the given name first (web mode), then replaces', async () => {
    const e = engine();
    const ed = await editedDocument(e);
    ed.source.seed = 43;
    const replacing = ed.newFromSeed();
    ed.guard.answer({ choice: 'save', name: 'portrait' });
    await replacing;
    expect(e.projectCalls.find((r) => r.op === 'save')).toMatchObject({ name: 'portrait' });
    expect(ed.source.current).toEqual({ kind: 'seed', seed: 43 });
  });
});

describe('one job per request', () => {
  it('the same directions request joins the running job; another one supersedes it with a notice', async () => {
    const e = engine();
    const ed = await editedDocument(e);
    const first = ed.computeBasis();
    const again = ed.computeBasis();
    await settle();
    expect(e.held.size).toBe(1);
    expect(ed.jobs.active.filter((j) => j.name === 'gallery')).toHaveLength(1);
    expect(ed.galleries.running?.timestep).toBe(555);

    // The picker moves; computing there supersedes the running job (cancelled, and the notice says so).
    ed.edits.setTimestep(111);
    const other = ed.computeBasis();
    await settle();
    expect(e.cancelled).toEqual(['held1']);
    expect(ed.notices.list.map((n) => n.text)).toContain(`Stopped computing the directions at t = 555: computing t = ${ed.edits.timestep} (k = 2) instead.`);
    await Promise.all([first, again]);
    expect(ed.notices.list.filter((n) => /cancelled/.test(n.text))).toEqual([]);
    e.finish('held2');
    await other;
    expect([ed.galleries.current?.status, ed.notices.list.filter((n) => n.kind === 'error').map((n) => n.detail)]).toEqual(['done', []]);
    expect(ed.galleries.running).toBeNull();
  });

  it('New from seed stops the directions of the old image first (saying so) instead of queueing behind them', async () => {
    const e = engine();
    const ed = await editedDocument(e);
    ed.edits.setTimestep(555);
    void ed.computeBasis();
    await settle();
    ed.source.seed = 50;
    const replacing = ed.newFromSeed();
    ed.guard.answer({ choice: 'discard' });
    await replacing;
    expect(e.cancelled).toEqual(['held1']);
    expect(ed.notices.list.map((n) => n.text)).toContain('Stopped computing the directions at t = 555: a new image replaces this one.');
  });

  it('New for the same seed joins the render; another seed supersedes it with a notice', async () => {
    const e = engine({ holdGenerate: true });
    const ed = new EditorState(e.api);
    await ed.load();
    ed.source.seed = 5;
    ed.source.steps = 10;
    const a = ed.newFromSeed();
    const b = ed.newFromSeed();
    await settle();
    expect(e.held.size).toBe(1);
    ed.source.seed = 6;
    const c = ed.newFromSeed();
    await settle();
    expect(e.cancelled).toEqual(['held1']);
    expect(ed.notices.list.map((n) => n.text)).toEqual(['Stopped rendering seed 5: rendering seed 6 instead.']);
    e.finish('held2');
    await Promise.all([a, b, c]);
    expect(ed.source.current).toEqual({ kind: 'seed', seed: 6 });
  });
});

/** A Map as Web Storage. */
function memoryStorage(): StorageLike & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get length() {
      return map.size;
    },
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

/** A connection the test drops and restores. */
function fakeConnection(): ConnectionSource & { set(s: ConnectionStatus): void } {
  const ls = new Set<(s: ConnectionStatus) => void>();
  const c = {
    connection: { state: 'open', attempt: 0 } as ConnectionStatus,
    onConnection: (l: (s: ConnectionStatus) => void) => (ls.add(l), () => ls.delete(l)),
    retryNow: vi.fn(),
    set(s: ConnectionStatus) {
      c.connection = s;
      ls.forEach((l) => l(s));
    },
  };
  return c;
}

describe('autosave while the engine cannot be reached', () => {
  it('keeps the document in the page, and writes it to recovery when the connection is back', async () => {
    const e = engine();
    const storage = memoryStorage();
    const conn = fakeConnection();
    const ed = await editedDocument(e, { storage, connection: conn });
    e.projectCalls.length = 0;

    e.setOnline(false);
    conn.set({ state: 'reconnecting', attempt: 1, retryAt: 0 });
    expect(ed.connection.online).toBe(false);
    await ed.files.writeRecovery();
    expect(ed.files.heldLocally).toBe(true);
    expect(ed.notices.list.filter((n) => n.kind === 'error')).toEqual([]);
    const kept = [...storage.map.values()].map((v) => JSON.parse(v) as { session: string; content: { manifest: { state: unknown } } });
    expect(kept).toHaveLength(1);
    expect(kept[0].session).toBe(ed.project.session);
    expect(kept[0].content.manifest.state).toEqual(ed.edits.doc);

    e.setOnline(true);
    conn.set({ state: 'open', attempt: 0 });
    await vi.waitFor(() => expect(storage.map.size).toBe(0));
    expect(e.projectCalls).toEqual([expect.objectContaining({ op: 'autosave', session: ed.project.session, manifest: expect.objectContaining({ state: ed.edits.doc }) })]);
    expect(ed.files.heldLocally).toBe(false);
  });

  it('a copy left in the page by an earlier visit goes to recovery when the editor starts', async () => {
    const e = engine();
    const storage = memoryStorage();
    const first = await editedDocument(e, { storage });
    e.setOnline(false);
    await first.files.writeRecovery();
    e.setOnline(true);
    e.projectCalls.length = 0;
    const second = new EditorState(e.api, { storage });
    await second.load();
    expect(e.projectCalls.map((r) => r.op)).toEqual(['autosave', 'recovery.list']);
    expect(e.projectCalls[0]).toMatchObject({ session: first.project.session });
    expect(storage.map.size).toBe(0);
  });

  it('without storage to keep it in, autosave says so instead of stopping silently', async () => {
    const e = engine();
    const ed = await editedDocument(e);
    e.setOnline(false);
    await ed.files.writeRecovery();
    expect(ed.notices.list.filter((n) => n.kind === 'error').map((n) => n.code)).toEqual(['disconnected']);
  });
});

describe('keys', () => {
  const key = (k: string, m: Record<string, unknown> = {}) => ({ key: k, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, target: null, preventDefault: vi.fn(), ...m });

  it('Mod+Z in a number field is the field’s own undo; elsewhere (or on a slider) it undoes the document', async () => {
    const e = engine();
    const ed = await editedDocument(e);
    const d = new CommandDispatcher(ed, { canvas: () => undefined, pickImage: vi.fn(), download: vi.fn() });
    const entries = ed.edits.history.index;
    d.onKey(key('z', { ctrlKey: true, target: { tagName: 'INPUT', type: 'number' } }));
    d.onKey(key('z', { ctrlKey: true, target: { tagName: 'TEXTAREA' } }));
    await settle();
    expect(ed.edits.history.index).toBe(entries);
    d.onKey(key('z', { ctrlKey: true, target: { tagName: 'INPUT', type: 'range' } }));
    await settle();
    expect(ed.edits.history.index).toBe(entries - 1);
  });

  it('? opens Help and closes it again', async () => {
    const ed = new EditorState(engine().api);
    await ed.load();
    const d = new CommandDispatcher(ed, { canvas: () => undefined, pickImage: vi.fn(), download: vi.fn() });
    d.onKey(key('?', { shiftKey: true }));
    expect(d.helpOpen).toBe(true);
    d.onKey(key('b'));
    expect(d.helpOpen).toBe(true);
    d.onKey(key('?', { shiftKey: true }));
    expect(d.helpOpen).toBe(false);
  });
});

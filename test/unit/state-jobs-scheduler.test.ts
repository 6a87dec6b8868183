/**
 * JobsState (the Jobs panel's model) and the engine scheduler's states: a job stays 'queued' until the engine starts
 * it, follows 'paused'/'running' from progress events, passes its scheduling hints to startJob, and a job a newer
 * one replaced ends as 'superseded' (not 'failed').
 */
import { describe, expect, it } from 'vitest';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { ScriptedApi } from '../helpers/scripted-api';

const flush = () => new Promise((r) => setTimeout(r, 0));
const edit = { modelDir: '/m', seed: 1, t: 0.5, edits: [] };

describe('JobsState with the scheduler', () => {
  it('queued until started, then running / paused / running as the engine reports', async () => {
    const api = new ScriptedApi();
    const jobs = new JobsState(api);
    const run = jobs.run('analyze', { modelDir: '/m', samples: [{ kind: 'seed', seed: 1 }], t: [0.5] }, 'Analysis');
    await flush();
    const status = () => jobs.list[0].status;
    expect(status()).toBe('queued');
    api.send({ type: 'progress', jobId: 'j0', fraction: 0, message: 'starting', state: 'running' });
    expect(status()).toBe('running');
    api.send({ type: 'progress', jobId: 'j0', fraction: 0.3, message: 'basis 3/10', state: 'paused' });
    expect([status(), jobs.active.length]).toEqual(['paused', 1]);
    api.send({ type: 'progress', jobId: 'j0', fraction: 0.3, message: 'basis 3/10', state: 'running' });
    expect(status()).toBe('running');
    // An engine without the scheduler sends no state: progress still means running.
    api.send({ type: 'progress', jobId: 'j0', fraction: 0.5, message: 'basis 5/10' });
    expect(status()).toBe('running');
    // A real failure is still 'failed' (unlike 'superseded' below).
    api.send({ type: 'error', jobId: 'j0', error: { code: 'internal', message: 'boom' } });
    await expect(run).rejects.toMatchObject({ code: 'internal' });
    expect(status()).toBe('failed');
  });

  it('passes the priority hint and coalescing key; a replaced job ends as superseded, not failed', async () => {
    const api = new ScriptedApi();
    const jobs = new JobsState(api);
    const first = jobs.run('edit', edit, 'Preview', undefined, { priority: 'preview', coalesceKey: 'entry-1' });
    await flush();
    expect(api.started.map(({ name, options }) => ({ name, options }))).toEqual([{ name: 'edit', options: { priority: 'preview', coalesceKey: 'entry-1' } }]);
    api.send({ type: 'error', jobId: 'j0', error: { code: 'superseded', message: 'replaced' } });
    await expect(first).rejects.toMatchObject({ code: 'superseded' });
    expect(jobs.list[0].status).toBe('superseded');
    expect(jobs.active).toHaveLength(0);
  });
});

/** The `pullback` bin as a user runs it (node bin/pullback.js = what `npx pullback` executes), no build step. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ANALYTIC_INT64, ANALYTIC_FLOAT } from '../helpers/model-folders';
import { EngineHost } from '../../src-main/engine/host/engine-host';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pullback.js');

async function pullback(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('pullback CLI', () => {
  it('info prints the scheduler, input names/shapes and weight size as JSON', async () => {
    const r = await pullback(['info', ANALYTIC_FLOAT]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.scheduler).toMatchObject({ betaSchedule: 'linear', predictionType: 'epsilon', numTrainTimesteps: 1000 });
    expect(info.unet.inputs).toEqual([
      { name: 'sample', type: 'float32', dims: ['batch', 3, 8, 8] },
      { name: 'timestep', type: 'float32', dims: [] },
    ]);
    expect(info.unet.weightsBytes).toBeGreaterThan(0);
  });

  it('generate writes the same PNG bytes as the engine for the same seed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pullback-cli-'));
    try {
      const out = join(dir, 'a.png');
      const r = await pullback(['generate', ANALYTIC_INT64, '--seed', '9', '--steps', '20', '--provider', 'cpu', '--out', out, '-q']);
      expect(r.code).toBe(0);
      const cliBytes = await readFile(out);
      const host = new EngineHost();
      try {
        const bytes = await new Promise<Uint8Array>((resolveBytes, reject) => {
          let id = '';
          host.onEvent((e) => {
            if (e.type === 'queued' && !id) id = e.jobId;
            if (e.jobId !== id) return;
            if (e.type === 'done') resolveBytes((e.output as { images: { bytes: Uint8Array }[] }).images[0].bytes);
            if (e.type === 'error') reject(new Error(e.error.message));
          });
          host.submit('generate', { modelDir: ANALYTIC_INT64, seed: 9, steps: 20, provider: 'cpu' });
        });
        expect(Buffer.from(bytes).equals(cliBytes)).toBe(true);
      } finally {
        await host.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('typed errors and usage errors have distinct exit codes and no stack traces', async () => {
    const bad = await pullback(['info', '/no/such/model']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error \[missing-file\]: \/no\/such\/model/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = await pullback(['generate', ANALYTIC_INT64, '--steps', '5', '--out', '/tmp/never.png']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toMatch(/--seed is required/);
    const unknown = await pullback(['frobnicate']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/unknown command/);
  });
});

/**
 * Transfer edit… (issue 13 item 3) against a scripted engine: the target list is parsed as typed, each target gets
 * one `transport` job per direction and one preview, Apply to all renders each exactly with the document's
 * parameters, a failing target keeps its error while the others go on, Cancel stops one target only, and the share
 * each meter shows is the transport job's `captured`. Exports carry the transfer, not A's recipe.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { Notices } from '../../src-renderer/src/lib/state/notices.svelte';
import { TransferState } from '../../src-renderer/src/lib/state/transfer.svelte';
import {
  LOW_SHARE_PERCENT,
  MAX_TARGETS,
  TRANSFER_KEY,
  parseSeedList,
  sharePercent,
  transferEditInput,
  transportInput,
  type TransferSource,
} from '../../src-renderer/src/lib/state/transfer-plan';
import { TRANSFER_SOURCE as SOURCE } from '../helpers/transfer-source';
import { readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { LIVE_PREVIEW_RENDER_STEPS } from '../../src-main/shared/live-preview';
import type { Float32TensorPayload, JobEvent, JobName, PullbackApi, StartJobOptions } from '../../src-main/shared/api';
import type { ApiErrorPayload } from '../../src-main/shared/errors';

const flush = () => new Promise((r) => setTimeout(r, 0));
async function settle(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await flush();
}

const PNG = new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } }).png().toBuffer());
const image = { mime: 'image/png' as const, width: 4, height: 4, bytes: PNG };
const stats = { timestep: 500, method: 'krylov' as const, iterations: 1, converged: true, jacobianProducts: { jvp: 1, vjp: 1, total: 2 }, residuals: [], seconds: 0, tol: 1e-3, seed: 0, hTensor: 'h', modelHash: 'm', cacheHit: false, cacheId: 'c' };
/** A tensor whose first float names where it came from, so a test can see which direction went into which job. */
const tensor = (marker: number): Float32TensorPayload => ({ dims: [1, 1], data: new Uint8Array(new Float32Array([marker]).buffer) });
const marker = (t: Float32TensorPayload) => new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + 4))[0];
/** What the scripted transport answers: a share that depends on the target and the direction. */
const capturedFor = (seedB: number | undefined, index: number) => 0.2 + 0.05 * (seedB ?? 10) + 0.1 * index;

type Reply = { output: unknown } | { error: ApiErrorPayload } | 'hold';

/**
 * Answers each job (unless 'hold') as the engine would; a Cancel ends the job as 'cancelled', as the engine does.
 * Like test/helpers/scripted-api.ts (whose cancelJob ignores the job), plus the answers and the cancels.
 */
class RespondingApi implements PullbackApi {
  readonly started: { name: JobName; input: unknown; options?: StartJobOptions }[] = [];
  readonly cancelled: string[] = [];
  readonly #listeners = new Set<(e: JobEvent) => void>();
  constructor(private readonly reply: (name: JobName, input: Record<string, unknown>) => Reply) {}
  async getAppInfo(): Promise<never> {
    throw new Error('not used');
  }
  async pickModelFolder() {
    return null;
  }
  async project(): Promise<unknown> {
    return null;
  }
  onJobEvent(l: (e: JobEvent) => void) {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  send(e: JobEvent): void {
    for (const l of [...this.#listeners]) l(e);
  }
  async startJob(name: JobName, input: unknown, options?: StartJobOptions) {
    const jobId = `j${this.started.length}`;
    this.started.push({ name, input, ...(options ? { options } : {}) });
    const answer = this.reply(name, input as Record<string, unknown>);
    if (answer !== 'hold') {
      setTimeout(() => this.send('output' in answer ? { type: 'done', jobId, name, output: answer.output } : { type: 'error', jobId, error: answer.error }), 0);
    }
    return { jobId };
  }
  async cancelJob(jobId: string) {
    this.cancelled.push(jobId);
    setTimeout(() => this.send({ type: 'error', jobId, error: { code: 'cancelled', message: 'cancelled' } }), 0);
  }
  jobs(name: JobName) {
    return this.started.filter((s) => s.name === name).map((s) => ({ ...s, input: s.input as Record<string, unknown> }));
  }
}

function engine(name: JobName, input: Record<string, unknown>): Reply {
  switch (name) {
    case 'generate':
      return { output: { images: [image], provider: 'cpu', timesteps: [], elapsedMs: 1 } };
    case 'invert':
      return { output: { xT: tensor(-1), timestep: 990, xt: tensor(-2), xtTimestep: input.timestep, input: image, recon: image, psnr: 30, poor: false, elapsedMs: 1 } };
    case 'transport': {
      const seedB = input.seedB as number | undefined;
      const index = input.index as number;
      return { output: { timestep: input.timestep, v: tensor((seedB ?? 100) * 10 + index), coefficients: [0.5], captured: capturedFor(seedB, index), basisA: stats, basisB: stats } };
    }
    case 'edit':
      return { output: { image, timestep: input.timestep, xEdited: tensor(0), elapsedMs: 1 } };
    default:
      return { error: { code: 'internal', message: `unexpected job ${name}` } };
  }
}


function setup(reply: (name: JobName, input: Record<string, unknown>) => Reply = engine, source: TransferSource | null = SOURCE) {
  const api = new RespondingApi(reply);
  const jobs = new JobsState(api);
  const notices = new Notices();
  const transfer = new TransferState({ jobs, notices, source: () => source });
  return { api, jobs, notices, transfer };
}

describe('text models: the basis prompt', () => {
  it('transport takes both bases at A\'s basis prompt; the edits on B carry no basis and no basis prompt', () => {
    const text: TransferSource = { ...SOURCE, textConditioned: true, basis: { ...SOURCE.basis, prompt: 'a dog' }, params: { ...SOURCE.params, editPrompt: 'smiling' } };
    expect(transportInput(text, { seed: 5 }, 0)).toMatchObject({ basisPrompt: 'a dog', seedB: 5, index: 0 });
    expect(transportInput(SOURCE, { seed: 5 }, 0)).not.toHaveProperty('basisPrompt');
    const edit = transferEditInput(text, { seed: 5 }, [{ v: { dims: [1, 1, 1, 1], data: new Uint8Array(4) }, strength: 1 }], false);
    expect(edit).not.toHaveProperty('basisPrompt');
    expect(edit).not.toHaveProperty('basis');
    expect(edit).toMatchObject({ editPrompt: 'smiling', seed: 5 });
  });
});

describe('the target list', () => {
  it('reads seeds and ranges, drops repeats, and names what it cannot read', () => {
    expect(parseSeedList('3, 7, 12-15')).toEqual({ seeds: [3, 7, 12, 13, 14, 15], error: null });
    expect(parseSeedList(' 7 3;7  2–4 ')).toEqual({ seeds: [7, 3, 2, 4], error: null });
    expect(parseSeedList('')).toEqual({ seeds: [], error: null });
    expect(parseSeedList('3, x').error).toMatch(/“x”/);
    expect(parseSeedList('9-4').error).toMatch(/backwards/);
    expect(parseSeedList('-3').error).toMatch(/“-3”/);
    expect(parseSeedList(`0-${MAX_TARGETS - 1}`).seeds).toHaveLength(MAX_TARGETS);
    expect(parseSeedList(`0-${MAX_TARGETS}`).error).toMatch(/at most/);
    expect(parseSeedList('1-99999999999').error).toMatch(/at most/);
  });

  it('the field drives what Transfer may start', () => {
    const { transfer } = setup();
    expect(transfer.canStart).toBe(false);
    transfer.seedsText = '3, 7';
    expect([transfer.seeds, transfer.canStart, transfer.seedsProblem]).toEqual([[3, 7], true, null]);
    transfer.seedsText = '3, seven';
    expect(transfer.canStart).toBe(false);
    expect(transfer.seedsProblem).toMatch(/seven/);
  });

  it('without an edit to transfer the panel does not open and says why', () => {
    const { transfer, notices } = setup(engine, null);
    transfer.open();
    expect(transfer.isOpen).toBe(false);
    expect(notices.list.at(-1)?.text).toMatch(/Nothing to transfer/);
  });

  it('refuses a file that is not a picture, like the editor import', async () => {
    const { transfer, notices } = setup();
    await transfer.addImage('notes.txt', new TextEncoder().encode('hello'));
    expect(transfer.images).toEqual([]);
    expect(notices.list.at(-1)?.kind).toBe('error');
    await transfer.addImage('a.png', PNG);
    await transfer.addImage('again.png', PNG); // the same picture twice is one target
    expect(transfer.images.map((i) => i.name)).toEqual(['a.png']);
  });
});

describe('transfer, preview, apply', () => {
  it('one transport per target per direction, one preview each, then one exact render each', async () => {
    const { api, transfer, jobs } = setup();
    transfer.seedsText = '3, 7';
    await transfer.addImage('cat.png', PNG);
    await transfer.start();

    expect(transfer.targets.map((t) => [t.label, t.status])).toEqual([
      ['seed 3', 'ready'],
      ['seed 7', 'ready'],
      ['cat.png', 'ready'],
    ]);
    // Pictures are inverted at the edit's timestep and their x_t is what the transport and the edit get.
    expect(api.jobs('invert').map((j) => [j.input.timestep, j.input.steps])).toEqual([[500, 10]]);
    const transports = api.jobs('transport').map((j) => [j.input.seedB ?? 'xt', j.input.xtB ? marker(j.input.xtB as Float32TensorPayload) : null, j.input.index, j.input.timestep, j.input.seed]);
    // Two targets run at once, so their jobs interleave: compare per target, each in direction order.
    const byTarget = (rows: unknown[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[2]) - Number(b[2]));
    expect(byTarget(transports)).toEqual([
      [3, null, 0, 500, 1],
      [3, null, 1, 500, 1],
      [7, null, 0, 500, 1],
      [7, null, 1, 500, 1],
      ['xt', -2, 0, 500, 1],
      ['xt', -2, 1, 500, 1],
    ]);
    expect(api.jobs('transport').every((j) => j.input.k === 2 && j.input.method === 'krylov' && j.input.steps === 10)).toBe(true);
    // The unedited seeds, at the document's steps.
    expect(api.jobs('generate').map((j) => j.input.seed)).toEqual([3, 7]);

    // Previews: at preview priority, approximate, each with its target's transported directions and the strengths.
    const previews = api.jobs('edit');
    expect(previews).toHaveLength(3);
    for (const p of previews) {
      expect(p.options?.priority).toBe('preview');
      expect(p.input.renderSteps).toBe(LIVE_PREVIEW_RENDER_STEPS);
      expect(p.input.basis).toBeUndefined();
      expect(p.input.timestep).toBe(500);
    }
    const dirs = (j: { input: Record<string, unknown> }) => (j.input.edits as { direction: Float32TensorPayload; strength: number }[]).map((e) => [marker(e.direction), e.strength]);
    expect(previews.map(dirs)).toEqual([
      [[30, 1.5], [31, -2]],
      [[70, 1.5], [71, -2]],
      [[1000, 1.5], [1001, -2]],
    ]);
    expect(previews.map((p) => p.input.seed ?? marker(p.input.xt as Float32TensorPayload))).toEqual([3, 7, -2]);
    expect(transfer.targets.every((t) => t.preview !== null && t.original !== null && t.result === null)).toBe(true);

    await transfer.applyAll();
    const exact = api.jobs('edit').slice(3);
    expect(exact.map((j) => [j.options?.priority, j.input.renderSteps, j.input.guidanceSteps])).toEqual([
      [undefined, 40, 12],
      [undefined, 40, 12],
      [undefined, 40, 12],
    ]);
    expect(exact.map(dirs)).toEqual(previews.map(dirs));
    expect(transfer.targets.map((t) => t.status)).toEqual(['done', 'done', 'done']);
    // Every job went through JobsState (the Jobs panel), labelled with its target.
    expect(jobs.list.some((j) => j.label === 'Transfer to seed 7: apply')).toBe(true);
  });

  it('the share each meter shows is the transport job’s captured', async () => {
    const { transfer } = setup();
    transfer.seedsText = '2, 9';
    await transfer.start();
    for (const t of transfer.targets) {
      const seed = t.spec.kind === 'seed' ? t.spec.seed : -1;
      expect(t.directions.map((d) => d.captured)).toEqual([capturedFor(seed, 0), capturedFor(seed, 1)]);
    }
    expect(sharePercent(0.834)).toBe(83);
    expect([sharePercent(-0.1), sharePercent(1.2), sharePercent(Number.NaN)]).toEqual([0, 100, 0]);
    expect(sharePercent(capturedFor(2, 0)) < LOW_SHARE_PERCENT).toBe(true); // 30 %: the meter warns
  });

  it('a failing target shows its error; the others are transferred and applied', async () => {
    const { transfer, notices } = setup((name, input) =>
      name === 'transport' && input.seedB === 7 && input.index === 1 ? { error: { code: 'invalid-argument', message: 'direction index 1 is outside the basis' } } : engine(name, input),
    );
    transfer.seedsText = '3, 7, 12';
    await transfer.start();
    expect(transfer.targets.map((t) => t.status)).toEqual(['ready', 'failed', 'ready']);
    const failed = transfer.targets[1];
    expect(failed.error?.code).toBe('invalid-argument');
    expect(failed.directions.map((d) => d.captured)).toEqual([capturedFor(7, 0), null]);
    expect(notices.list.at(-1)?.text).toMatch(/1 of 3 targets failed/);
    await transfer.applyAll();
    expect(transfer.targets.map((t) => t.status)).toEqual(['done', 'failed', 'done']);
  });

  it('Cancel on one target ends its job and starts no more for it; the others go on', async () => {
    let hold = true;
    const { api, transfer, jobs } = setup((name, input) => (hold && name === 'transport' && input.seedB === 3 ? 'hold' : engine(name, input)));
    transfer.seedsText = '3, 7';
    const run = transfer.start();
    await settle();
    const three = transfer.targets[0];
    expect(three.status).toBe('transporting');
    expect(transfer.jobOf(three)?.label).toBe('Transfer to seed 3: direction 1');
    const held = api.started.findIndex((s) => s.name === 'transport' && (s.input as { seedB?: number }).seedB === 3);
    hold = false;
    transfer.cancel(three);
    await run;
    expect(api.cancelled).toEqual([`j${held}`]);
    expect(transfer.targets.map((t) => t.status)).toEqual(['cancelled', 'ready']);
    // Seed 3 got no second transport and no preview; seed 7 got both of its own.
    expect(api.jobs('transport').filter((j) => j.input.seedB === 3)).toHaveLength(1);
    expect(api.jobs('edit').map((j) => j.input.seed)).toEqual([7]);
    expect(jobs.list.find((j) => j.label === 'Transfer to seed 3: direction 1')?.status).toBe('cancelled');

    // A Cancel that crosses the job's end (the engine had finished it) still starts nothing more for that target.
    hold = true;
    const raced = setup((name, input) => (hold && name === 'transport' && input.seedB === 3 ? 'hold' : engine(name, input)));
    raced.transfer.seedsText = '3';
    const racing = raced.transfer.start();
    await settle();
    const jobId = `j${raced.api.started.findIndex((s) => s.name === 'transport')}`;
    raced.transfer.cancel(raced.transfer.targets[0]);
    raced.api.send({ type: 'done', jobId, name: 'transport', output: (engine('transport', { seedB: 3, index: 0, timestep: 500 }) as { output: unknown }).output });
    await racing;
    expect(raced.transfer.targets[0].status).toBe('cancelled');
    expect(raced.api.jobs('transport')).toHaveLength(1);
    expect(raced.api.jobs('edit')).toHaveLength(0);

    // Cancel during Apply to all: that target's exact render is cancelled, the other's is kept.
    hold = true;
    const again = setup((name, input) => (hold && name === 'edit' && input.seed === 3 && input.renderSteps === SOURCE.params.renderSteps ? 'hold' : engine(name, input)));
    again.transfer.seedsText = '3, 7';
    await again.transfer.start();
    const applying = again.transfer.applyAll();
    await settle();
    expect(again.transfer.targets[0].status).toBe('applying');
    again.transfer.cancel(again.transfer.targets[0]);
    await applying;
    expect(again.transfer.targets.map((t) => [t.status, t.result !== null])).toEqual([
      ['cancelled', false],
      ['done', true],
    ]);
  }, 10_000);

  it('exports the exact renders with the transfer in text chunks, never A’s recipe', async () => {
    const { transfer } = setup();
    transfer.seedsText = '5';
    await transfer.addImage('my cat.png', PNG);
    await transfer.start();
    expect(transfer.exportFiles()).toEqual([]); // previews are never exported
    await transfer.applyAll();
    const files = transfer.exportFiles();
    expect(files.map((f) => f.name)).toEqual(['doc-transfer-seed5.png', 'doc-transfer-my_cat.png']);
    const text = readPngText(files[0].bytes);
    expect(text[RECIPE_KEY]).toBeUndefined();
    expect(text.Source).toBe('seed 5');
    expect(text.Directions).toMatch(/#1 × 1.5 \(45 % survived\), #2 × -2 \(55 % survived\)/);
    const record = JSON.parse(text[TRANSFER_KEY]);
    expect(record.to).toEqual({ kind: 'seed', seed: 5 });
    expect(record.directions.map((d: { captured: number }) => d.captured)).toEqual([capturedFor(5, 0), capturedFor(5, 1)]);
    expect(readPngText(files[1].bytes).Source).toMatch(/^image sha256 [0-9a-f]{64}$/);
  });
});

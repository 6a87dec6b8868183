/**
 * Issue 14, files a folder holds: model folders and the renderer's folder are read only as regular files that
 * resolve inside their folder, with size and value caps. A FIFO, a device, a link out, external weights elsewhere
 * and absurd values each end in a typed error naming the file (and field) within a deadline, and the engine keeps
 * running other jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFolder, checkUnetSignature, MAX_CONFIG_BYTES } from '../../src-main/core/diffusion/model-folder';
import { ModelFolderError } from '../../src-main/core/diffusion/errors';
import { readStaticFile } from '../../src-main/app/static-files';
import { EngineHost } from '../../src-main/engine/host/engine-host';
import type { JobEvent } from '../../src-main/shared/api';
import { ANALYTIC_EXTERNAL, ANALYTIC_INT64 } from '../helpers/model-folders';
import { withDeadline } from '../fuzz/raw-net';
import { generateCommand } from '../../src-main/cli/commands/generate';
import { basisCommand } from '../../src-main/cli/commands/basis';
import { UsageError } from '../../src-main/cli/types';

const posix = process.platform !== 'win32';
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function copyModel(source = ANALYTIC_INT64): string {
  const root = mkdtempSync(join(tmpdir(), 'pb-hmodel-'));
  roots.push(root);
  const dir = join(root, 'model');
  cpSync(source, dir, { recursive: true });
  return dir;
}

async function folderError(dir: string): Promise<ModelFolderError> {
  const err = await withDeadline('loadModelFolder', 5000, () => loadModelFolder(dir).then(() => null, (e: unknown) => e));
  expect(err).toBeInstanceOf(ModelFolderError);
  return err as ModelFolderError;
}

/** Replace the bytes in a file at the first occurrence of `from` by `to` (same length: protobuf lengths stay valid). */
function patch(file: string, from: string, to: string): void {
  expect(to.length).toBe(from.length);
  const b = readFileSync(file);
  const i = b.indexOf(Buffer.from(from));
  expect(i).toBeGreaterThanOrEqual(0);
  Buffer.from(to).copy(b, i);
  writeFileSync(file, b);
}

const FILES = ['model_index.json', 'scheduler/scheduler_config.json', 'unet/config.json', 'unet/model.onnx'];

describe.skipIf(!posix)('model folders: only regular files inside the folder are read', () => {
  it.each(FILES)('%s as a FIFO → unsafe-file at once (the read would block forever)', async (rel) => {
    const dir = copyModel();
    rmSync(join(dir, rel), { force: true });
    execFileSync('mkfifo', [join(dir, rel)]);
    const err = await folderError(dir);
    expect(err.code).toBe('unsafe-file');
    expect(err.file).toBe(join(dir, rel));
    expect(err.message).toMatch(/FIFO/);
  });

  it.each(FILES)('%s as a link to /dev/zero → unsafe-file (the read would never end)', async (rel) => {
    const dir = copyModel();
    rmSync(join(dir, rel), { force: true });
    symlinkSync('/dev/zero', join(dir, rel));
    expect((await folderError(dir)).code).toBe('unsafe-file');
  });

  it('a link out of the folder, even to a valid model file, is refused; a link inside the folder is followed', async () => {
    const outside = copyModel();
    const dir = copyModel();
    rmSync(join(dir, 'unet', 'model.onnx'));
    symlinkSync(join(outside, 'unet', 'model.onnx'), join(dir, 'unet', 'model.onnx'));
    const err = await folderError(dir);
    expect(err.code).toBe('unsafe-file');
    expect(err.message).toMatch(/leads out of the model folder/);
    const inside = copyModel();
    mkdirSync(join(inside, 'weights'));
    cpSync(join(inside, 'unet', 'model.onnx'), join(inside, 'weights', 'unet.onnx'));
    rmSync(join(inside, 'unet', 'model.onnx'));
    symlinkSync(join('..', 'weights', 'unet.onnx'), join(inside, 'unet', 'model.onnx'));
    expect((await loadModelFolder(inside)).unet.sampleDims).toEqual([3, 8, 8]);
  });

  it('the model folder itself may be a link (e.g. to another disk)', async () => {
    const dir = copyModel();
    const link = join(dir, '..', 'linked');
    symlinkSync(dir, link);
    const m = await loadModelFolder(link);
    expect(m.dir).toBe(link);
    expect(m.unet.sampleDims).toEqual([3, 8, 8]);
  });

  it('external data outside the folder (absolute, ../, or a link out) is refused with unsafe-file, not provider-failed', async () => {
    // 'model.onnx_data' (15 characters) in the graph, replaced by same-length locations.
    for (const location of ['/etc///hostname', '../../../etc/pa', '../../x/outside']) {
      const dir = copyModel(ANALYTIC_EXTERNAL);
      patch(join(dir, 'unet', 'model.onnx'), 'model.onnx_data', location);
      const err = await folderError(dir);
      expect(err.code, location).toBe('unsafe-file');
      expect(err.message, location).toMatch(/outside the model folder/);
    }
    const dir = copyModel(ANALYTIC_EXTERNAL);
    const outside = mkdtempSync(join(tmpdir(), 'pb-hout-'));
    roots.push(outside);
    cpSync(join(dir, 'unet', 'model.onnx_data'), join(outside, 'data'));
    rmSync(join(dir, 'unet', 'model.onnx_data'));
    symlinkSync(join(outside, 'data'), join(dir, 'unet', 'model.onnx_data'));
    expect((await folderError(dir)).code).toBe('unsafe-file');
    // A valid external-data folder still loads, and the resolved files are listed for the model hash.
    const ok = await loadModelFolder(ANALYTIC_EXTERNAL);
    expect(ok.unet.externalData).toEqual([join(ANALYTIC_EXTERNAL, 'unet', 'model.onnx_data')]);
  });
});

describe('model folders: value and size caps name the field', () => {
  it.each([
    [1e12, /"num_train_timesteps" is 1000000000000; at most 100000/],
    [1e8, /"num_train_timesteps" is 100000000; at most 100000/],
  ])('num_train_timesteps %d → bad-scheduler within a second', async (n, message) => {
    const dir = copyModel();
    writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ num_train_timesteps: n }));
    const t0 = performance.now();
    const err = await folderError(dir);
    expect(err.code).toBe('bad-scheduler');
    expect(err.message).toMatch(message);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a config file over the size cap → malformed-json naming the file, never parsed', async () => {
    const dir = copyModel();
    writeFileSync(join(dir, 'model_index.json'), `{"a": "${'x'.repeat(MAX_CONFIG_BYTES)}"}`);
    const err = await folderError(dir);
    expect(err.code).toBe('malformed-json');
    expect(err.file).toBe(join(dir, 'model_index.json'));
  });

  const sample = (dims: (number | string | null)[]) => [
    { name: 'sample', elemType: 'float32' as const, dims },
    { name: 'timestep', elemType: 'int64' as const, dims: [1] },
  ];
  const outputs = [{ name: 'out', elemType: 'float32' as const, dims: [] }];
  it.each([
    ['a static 1e12 side', sample(['b', 3, 1e12, 8]), null, /3×1000000000000×8 \(from the graph\)/],
    ['sample_size 1e9 from unet/config.json', sample(['b', 'c', 'h', 'w']), { in_channels: 3, sample_size: 1e9 }, /from config\.json "sample_size"/],
    ['in_channels 100000', sample(['b', 'c', 'h', 'w']), { in_channels: 100000, sample_size: 8 }, /100000 channels \(from config\.json "in_channels"\)/],
    ['4096² × 64 channels (over the element cap)', sample(['b', 64, 4096, 4096]), null, /and 67108864 values are supported/],
  ])('%s → unsupported-model naming the field', (_name, inputs, config, message) => {
    let err: unknown;
    try {
      checkUnetSignature('/m/unet/model.onnx', inputs, outputs, config, '/m/unet/config.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as ModelFolderError).code).toBe('unsupported-model');
    expect((err as ModelFolderError).message).toMatch(message);
  });

  it('sample_size given as a non-integer or a list of junk falls back to a typed wrong-inputs error', () => {
    for (const sample_size of [8.5, -8, ['x'], [0], '8']) {
      expect(() => checkUnetSignature('/m/unet/model.onnx', sample(['b', 'c', 'h', 'w']), outputs, { in_channels: 3, sample_size }, '/m/unet/config.json')).toThrow(ModelFolderError);
    }
  });
});

describe.skipIf(!posix)('the engine is not wedged by a hostile folder', () => {
  let host: EngineHost;
  beforeAll(() => {
    host = new EngineHost();
  });
  afterAll(async () => {
    await host.close();
  });

  function run(name: 'model.info', input: unknown): Promise<Extract<JobEvent, { type: 'done' | 'error' }>> {
    return new Promise((resolve) => {
      let id = '';
      const off = host.onEvent((e) => {
        if (!id && e.type === 'queued') id = e.jobId;
        if (e.jobId === id && (e.type === 'done' || e.type === 'error')) {
          off();
          resolve(e);
        }
      });
      host.submit(name, input);
    });
  }

  it('model.info on a FIFO model_index.json fails typed, and the next job runs', async () => {
    const dir = copyModel();
    rmSync(join(dir, 'model_index.json'));
    execFileSync('mkfifo', [join(dir, 'model_index.json')]);
    const bad = await withDeadline('model.info on a FIFO', 60_000, () => run('model.info', { modelDir: dir }));
    expect(bad).toMatchObject({ type: 'error', error: { code: 'unsafe-file' } });
    const good = await withDeadline('model.info after', 60_000, () => run('model.info', { modelDir: ANALYTIC_INT64 }));
    expect(good.type).toBe('done');
  });
});

describe.skipIf(!posix)('the static server reads only regular files of its folder, through no link', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pb-hstatic-'));
    roots.push(root);
    writeFileSync(join(root, 'index.html'), 'index');
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets', 'a.js'), 'js');
    const secret = join(mkdtempSync(join(tmpdir(), 'pb-hsecret-')), 'secret.txt');
    roots.push(join(secret, '..'));
    writeFileSync(secret, 'SECRET');
    symlinkSync(secret, join(root, 'out-link.txt'));
    symlinkSync(join(root, 'index.html'), join(root, 'in-link.html'));
    symlinkSync(join(secret, '..'), join(root, 'dir-link'));
    execFileSync('mkfifo', [join(root, 'fifo.js')]);
  });

  it('serves regular files', async () => {
    expect((await readStaticFile(root, '/', 1e6))?.body.toString()).toBe('index');
    expect((await readStaticFile(root, '/assets/a.js', 1e6))?.type).toMatch(/javascript/);
  });
  it.each(['/out-link.txt', '/in-link.html', '/dir-link/secret.txt', '/fifo.js', '/assets'])('refuses %s (404) without blocking', async (p) => {
    expect(await withDeadline(p, 2000, () => readStaticFile(root, p, 1e6))).toBeNull();
  });
  it('refuses a file over the size cap', async () => {
    expect(await readStaticFile(root, '/index.html', 2)).toBeNull();
  });
});

describe('the CLI checks --out before it runs the job', () => {
  it.each([
    ['generate into a folder that does not exist', () => generateCommand.run([ANALYTIC_INT64, '--seed', '1', '--steps', '1000', '--out', join(tmpdir(), 'pb-no-such-dir', 'x', 'a.png')]), /its folder does not exist/],
    ['generate onto a folder', () => generateCommand.run([ANALYTIC_INT64, '--seed', '1', '--steps', '1000', '--out', tmpdir()]), /it is a folder/],
    [
      'basis into a path where a file is in the way',
      () => {
        const file = join(mkdtempSync(join(tmpdir(), 'pb-cli-')), 'file');
        writeFileSync(file, 'x');
        return basisCommand.run([ANALYTIC_INT64, '--seed', '1', '--t', '0.5', '--k', '2', '--out', join(file, 'sub')]);
      },
      /a file is in the way/,
    ],
  ])('%s: a usage error at once, naming --out', async (_name, run, reason) => {
    const t0 = performance.now();
    const err = await run().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^--out .*: cannot write there/);
    expect((err as Error).message).toMatch(reason);
    // No model was loaded and no step ran (1000 steps take seconds).
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

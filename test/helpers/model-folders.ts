/** Builds broken copies of the analytic fixture model folder in a temp dir, one per failure the loader must type. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const FIXTURE_MODELS = resolve(import.meta.dirname, '..', 'fixtures', 'models');
export const ANALYTIC_INT64 = join(FIXTURE_MODELS, 'analytic-int64');
export const ANALYTIC_FLOAT = join(FIXTURE_MODELS, 'analytic-float');
export const ANALYTIC_VPRED = join(FIXTURE_MODELS, 'analytic-vpred');
export const ANALYTIC_EXTERNAL = join(FIXTURE_MODELS, 'analytic-external');

export interface BadCase {
  name: string;
  /** Expected ModelFolderError code. */
  code: string;
  /** Path (relative to the folder) the error must name. */
  file: string;
  make(dir: string): Promise<void>;
  /** Fixture folder to copy (default analytic-int64). */
  source?: string;
}

/** Replace every occurrence of an ASCII string by another of the same length (keeps protobuf lengths valid). */
async function renameInFile(file: string, from: string, to: string): Promise<void> {
  const bytes = await readFile(file);
  const a = Buffer.from(from);
  const b = Buffer.from(to);
  let i = bytes.indexOf(a);
  while (i >= 0) {
    b.copy(bytes, i);
    i = bytes.indexOf(a, i + 1);
  }
  await writeFile(file, bytes);
}

export const BAD_CASES: BadCase[] = [
  { name: 'missing model_index.json', code: 'missing-file', file: 'model_index.json', make: (d) => rm(join(d, 'model_index.json')) },
  { name: 'missing unet/model.onnx', code: 'missing-file', file: 'unet/model.onnx', make: (d) => rm(join(d, 'unet', 'model.onnx')) },
  {
    name: 'missing scheduler config',
    code: 'missing-file',
    file: 'scheduler/scheduler_config.json',
    make: (d) => rm(join(d, 'scheduler', 'scheduler_config.json')),
  },
  {
    name: 'malformed scheduler JSON',
    code: 'malformed-json',
    file: 'scheduler/scheduler_config.json',
    make: (d) => writeFile(join(d, 'scheduler', 'scheduler_config.json'), '{"beta_schedule": "linear",'),
  },
  {
    name: 'unsupported beta schedule',
    code: 'bad-scheduler',
    file: 'scheduler/scheduler_config.json',
    make: (d) => writeFile(join(d, 'scheduler', 'scheduler_config.json'), JSON.stringify({ beta_schedule: 'sigmoid' })),
  },
  {
    name: 'truncated ONNX',
    code: 'bad-onnx',
    file: 'unet/model.onnx',
    make: async (d) => {
      const f = join(d, 'unet', 'model.onnx');
      const bytes = await readFile(f);
      await writeFile(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
    },
  },
  {
    name: 'text file named model.onnx',
    code: 'bad-onnx',
    file: 'unet/model.onnx',
    make: (d) => writeFile(join(d, 'unet', 'model.onnx'), 'This is not a model.\nJust some notes someone saved here.\n'),
  },
  {
    name: 'missing external weights file',
    code: 'missing-file',
    file: 'unet/model.onnx_data',
    source: join(FIXTURE_MODELS, 'analytic-external'),
    make: (d) => rm(join(d, 'unet', 'model.onnx_data')),
  },
  {
    name: 'wrong input names (sample → sampla)',
    code: 'wrong-inputs',
    file: 'unet/model.onnx',
    make: (d) => renameInFile(join(d, 'unet', 'model.onnx'), 'sample', 'sampla'),
  },
];

/** A fresh copy of a fixture folder with the case applied. Caller removes `root`. */
export async function makeBadFolder(c: BadCase, source = c.source ?? ANALYTIC_INT64): Promise<{ root: string; dir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'pullback-bad-'));
  const dir = join(root, 'model');
  await cp(source, dir, { recursive: true });
  await c.make(dir);
  return { root, dir };
}

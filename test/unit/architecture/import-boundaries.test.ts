/**
 * The import boundaries of DEVELOPERS.md "Layout", checked against the real ESLint config: each forbidden import
 * must be reported in its area and each allowed one must not, so loosening a rule in eslint.config.js fails here.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

const cases: { file: string; code: string; allowed: boolean }[] = [
  // onnxruntime-node only in the engine worker
  { file: 'src-main/engine/worker/x.ts', code: "import * as ort from 'onnxruntime-node';\nexport const o = ort;", allowed: true },
  { file: 'src-main/engine/jobs/x.ts', code: "import * as ort from 'onnxruntime-node';\nexport const o = ort;", allowed: false },
  { file: 'src-main/engine/host/x.ts', code: "import * as ort from 'onnxruntime-node';\nexport const o = ort;", allowed: false },
  { file: 'src-main/app/x.ts', code: "import * as ort from 'onnxruntime-node';\nexport const o = ort;", allowed: false },
  { file: 'src-main/core/x.ts', code: "import * as ort from 'onnxruntime-node';\nexport const o = ort;", allowed: false },
  { file: 'src-main/electron/x.ts', code: "import * as ort from 'onnxruntime-node';\nexport const o = ort;", allowed: false },
  // electron only in the shell
  { file: 'src-main/electron/x.ts', code: "import { app } from 'electron';\nexport const a = app;", allowed: true },
  { file: 'src-main/app/x.ts', code: "import { app } from 'electron';\nexport const a = app;", allowed: false },
  { file: 'src-main/server/x.ts', code: "import { app } from 'electron';\nexport const a = app;", allowed: false },
  { file: 'src-main/engine/worker/x.ts', code: "import { app } from 'electron';\nexport const a = app;", allowed: false },
  // the host never loads the worker or a job (types are fine)
  { file: 'src-main/engine/host/x.ts', code: "import { ENGINE_JOBS } from '../jobs';\nexport const j = ENGINE_JOBS;", allowed: false },
  { file: 'src-main/engine/host/x.ts', code: "import { ModelCache } from '../worker/model-cache';\nexport const m = ModelCache;", allowed: false },
  { file: 'src-main/engine/host/x.ts', code: "import type { EngineJob } from '../jobs/types';\nexport type J = EngineJob<'basis'>;", allowed: true },
  { file: 'src-main/app/x.ts', code: "import { EngineResources } from '../engine/worker/resources';\nexport const r = EngineResources;", allowed: false },
  { file: 'src-main/electron/x.ts', code: "import { ENGINE_JOBS } from '../engine/jobs';\nexport const j = ENGINE_JOBS;", allowed: false },
  // no Node in shared/ or the renderer
  { file: 'src-main/shared/x.ts', code: "import { readFile } from 'node:fs/promises';\nexport const r = readFile;", allowed: false },
  { file: 'src-main/shared/x.ts', code: "import { join } from 'path';\nexport const j = join;", allowed: false },
  { file: 'src-renderer/src/lib/x.ts', code: "import { readFile } from 'node:fs/promises';\nexport const r = readFile;", allowed: false },
  // the renderer imports only shared/
  { file: 'src-renderer/src/lib/x.ts', code: "import { JOBS } from '../../../src-main/shared/api';\nexport const j = JOBS;", allowed: true },
  { file: 'src-renderer/src/lib/x.ts', code: "import { ddimTimesteps } from '../../../src-main/core/diffusion/ddim';\nexport const d = ddimTimesteps;", allowed: false },
  { file: 'src-renderer/src/lib/x.ts', code: "import { EngineHost } from '../../../src-main/engine/host/engine-host';\nexport const e = EngineHost;", allowed: false },
  // core imports only core
  { file: 'src-main/core/geometry/x.ts', code: "import { dataDir } from '../../app/data-dir';\nexport const d = dataDir;", allowed: false },
  { file: 'src-main/core/geometry/x.ts', code: "import { JOBS } from '../../shared/api';\nexport const j = JOBS;", allowed: false },
  { file: 'src-main/core/geometry/x.ts', code: "import { sizeOf } from '../tensor';\nexport const s = sizeOf;", allowed: true },
  // shared/ does not reach into the engine or the app
  { file: 'src-main/shared/x.ts', code: "import { toApiError } from '../engine/errors';\nexport const t = toApiError;", allowed: false },
];

describe('import boundaries (eslint.config.js)', () => {
  it.each(cases)('$file: $code → allowed $allowed', async ({ file, code, allowed }) => {
    const errors = await boundaryErrors(file, code);
    if (allowed) expect(errors).toEqual([]);
    else expect(errors.length).toBeGreaterThan(0);
  });
});

/**
 * `pullback strip [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) --direction I [--k K] [--method M]
 * [--n 16] [--every 4] --strength S [--scale s] [--delta d] [--boost F|none] [--steps N] [--render-steps N] --out <dir>`:
 * the authors' strip (method.md §2): direction I edited with −S and +S, rendered after 0, every, 2·every, …, n
 * guidance steps (n itself always included). Two `edit` jobs with `frames` (the second loads the basis from the
 * cache). Writes `unedited.png` (0 steps), `minus-<m>.png` and `plus-<m>.png` per frame, `strip.png` (−n … −every,
 * 0, +every … +n, left to right) and `strip.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCliJob } from '../run-job';
import { STRIP_DEFAULTS, stripFrames } from '../../shared/edit-defaults';
import { resolveModelDir } from '../default-model';
import { BASIS_PARAM_OPTIONS, basisParamArgs, editParamArgs, joinNegativeNumbers, providerArg } from '../edit-args';
import { horizontalStrip } from '../image-strip';
import { COMMON_OPTIONS, int, num, promptNotice, sourceArgs, TEXT_OPTIONS, textArgs, geometryPromptArgs, BASIS_PROMPT_OPTION, EDIT_PROMPT_OPTION, timeArgs, writeJsonLine } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';

export const stripCommand: CliCommand = {
  name: 'strip',
  summary:
    'strip [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) --direction I [--k K] [--method krylov|subspace] ' +
    '[--n 16] [--every 4] --strength S [--scale s] [--delta d] [--boost F|none] [--noise-seed N] [--steps N] [--render-steps N] ' +
    '[--prompt TEXT ...] [--basis-prompt TEXT] [--edit-prompt TEXT] --out <dir>  the authors\' strip: renders after 0, 4, …, n guidance steps, − and +',
  async run(rawArgs) {
    const { positionals, values } = parseArgs({
      args: joinNegativeNumbers(rawArgs),
      allowPositionals: true,
      options: {
        ...COMMON_OPTIONS,
        ...TEXT_OPTIONS,
        ...BASIS_PROMPT_OPTION,
        ...EDIT_PROMPT_OPTION,
        ...BASIS_PARAM_OPTIONS,
        direction: { type: 'string' },
        strength: { type: 'string' },
        n: { type: 'string' },
        every: { type: 'string' },
        scale: { type: 'string' },
        delta: { type: 'string' },
        'noise-seed': { type: 'string' },
        boost: { type: 'string' },
        'render-steps': { type: 'string' },
      },
    });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    if (values.direction === undefined) throw new UsageError('--direction I is required (a direction of the local basis, 0 = largest σ)');
    if (values.strength === undefined) throw new UsageError('--strength S is required (the strip shows −S and +S)');
    const index = int('direction', values.direction)!;
    if (index < 0) throw new UsageError('--direction must be ≥ 0');
    const strength = num('strength', values.strength)!;
    if (!(strength > 0)) throw new UsageError('--strength must be > 0: the strip shows both −S and +S');
    const n = int('n', values.n) ?? STRIP_DEFAULTS.guidanceSteps;
    const every = int('every', values.every) ?? STRIP_DEFAULTS.every;
    if (n < 1) throw new UsageError('--n must be ≥ 1');
    if (every < 1) throw new UsageError('--every must be ≥ 1');
    const basis = basisParamArgs(values);
    if (basis.k !== undefined && index >= basis.k) throw new UsageError(`--direction ${index} is outside the basis (k = ${basis.k})`);
    const frames = stripFrames(n, every);
    const renderSteps = int('render-steps', values['render-steps']);
    const common = {
      modelDir: resolveModelDir(positionals, 'strip'),
      ...(await sourceArgs(values)),
      ...timeArgs(values),
      ...editParamArgs({ scale: values.scale, delta: values.delta, 'noise-seed': values['noise-seed'], boost: values.boost }),
      mode: 'guidance' as const,
      guidanceSteps: n,
      basis,
      frames,
      ...(renderSteps !== undefined ? { renderSteps } : {}),
      ...providerArg(values.provider),
      ...textArgs(values),
      ...geometryPromptArgs(values),
    };
    const run = (signed: number) =>
      runCliJob('edit', { ...common, edits: [{ index, strength: signed }] }, { quiet: values.quiet });
    const minus = await run(-strength);
    const plus = await run(strength);
    promptNotice(plus.prompt, values.quiet);
    await mkdir(values.out, { recursive: true });
    const width = String(n).length;
    const name = (sign: '-' | '+', m: number) => (m === 0 ? 'unedited.png' : `${sign === '-' ? 'minus' : 'plus'}-${String(m).padStart(width, '0')}.png`);
    const frameOf = (out: typeof plus, m: number) => out.frames!.find((f) => f.guidanceSteps === m)!.image.bytes;
    for (const m of frames) {
      await writeFile(join(values.out, name('-', m)), frameOf(minus, m));
      if (m > 0) await writeFile(join(values.out, name('+', m)), frameOf(plus, m));
    }
    // −n … −every, then 0, then +every … +n: the edit grows away from the unedited image in both directions.
    const order = [...frames.slice(1).reverse().map((m) => ({ sign: -1, m })), { sign: 0, m: 0 }, ...frames.slice(1).map((m) => ({ sign: 1, m }))];
    const images = order.map((f) => frameOf(f.sign < 0 ? minus : plus, f.m));
    await writeFile(join(values.out, 'strip.png'), await horizontalStrip(images));
    const meta = {
      timestep: plus.timestep,
      direction: index,
      strength,
      guidance_steps: n,
      frames,
      strip: order.map((f) => ({ guidance_steps: f.m, strength: f.sign * strength, file: name(f.sign < 0 ? '-' : '+', f.m) })),
      basis: plus.basis ? { ...plus.basis, residuals: undefined } : null,
      seconds: (minus.elapsedMs + plus.elapsedMs) / 1000,
    };
    await writeFile(join(values.out, 'strip.json'), `${JSON.stringify(meta, null, 2)}\n`);
    if (!values.quiet) writeJsonLine({ out: values.out, timestep: meta.timestep, frames, files: [...new Set(meta.strip.map((s) => s.file)), 'strip.png', 'strip.json'] });
    return 0;
  },
};

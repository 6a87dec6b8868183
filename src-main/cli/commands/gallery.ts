/**
 * `pullback gallery [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) [--k K] [--method krylov|subspace]
 * [--directions 0,1,...] [--strength S] [--preview-steps N] [edit params] [--mask FILE [--mask-invert]] --out <dir>`: the editor's direction
 * gallery as files, from the `gallery` job. Writes per direction `direction-<i>.png` (−, unedited, + side by side)
 * and `heat-<i>.png` (|v| per pixel), `center.png` (the unedited preview), `sigma.csv` (index, sigma) and
 * `gallery.json` (timestep, basis stats, parameters). Previews render with `--preview-steps` DDIM steps (default 10)
 * and the gallery's n = 8, s = 0.2: approximate, as in the editor; `pullback edit` renders the exact edit.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCliJob } from '../run-job';
import { GALLERY_DEFAULTS } from '../../shared/edit-defaults';
import { resolveModelDir } from '../default-model';
import { BASIS_PARAM_OPTIONS, basisParamArgs, EDIT_PARAM_OPTIONS, editParamArgs, providerArg } from '../edit-args';
import { horizontalStrip } from '../image-strip';
import { COMMON_OPTIONS, int, num, sourceArgs, TEXT_OPTIONS, textArgs, geometryPromptArgs, BASIS_PROMPT_OPTION, EDIT_PROMPT_OPTION, timeArgs, writeJsonLine } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';
import { MASK_OPTIONS, maskArgs, maskMeta } from '../mask-args';

/** `--directions 0,2,5` → [0, 2, 5]. */
function directionList(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => int('directions', s.trim())!);
  if (list.some((i) => i < 0)) throw new UsageError('--directions are indices ≥ 0');
  return list;
}

export const galleryCommand: CliCommand = {
  name: 'gallery',
  summary:
    'gallery [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) [--k K] [--method krylov|subspace] [--directions 0,1,...] ' +
    '[--strength S] [--preview-steps N] [--guidance-steps n] [--scale s] [--delta d] [--boost F|none] [--steps N] ' +
    '[--mask FILE [--mask-invert]] [--center-image PNG] [--prompt TEXT ...] [--basis-prompt TEXT] [--edit-prompt TEXT] --out <dir>  −/0/+ preview strip per direction (approximate: few render steps), heat maps, sigma.csv',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...COMMON_OPTIONS,
        ...TEXT_OPTIONS,
        ...BASIS_PROMPT_OPTION,
        ...EDIT_PROMPT_OPTION,
        ...EDIT_PARAM_OPTIONS,
        ...BASIS_PARAM_OPTIONS,
        ...MASK_OPTIONS,
        directions: { type: 'string' },
        strength: { type: 'string' },
        'preview-steps': { type: 'string' },
        'center-image': { type: 'string' },
      },
    });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    const time = timeArgs(values);
    const strength = num('strength', values.strength);
    const previewSteps = int('preview-steps', values['preview-steps']);
    // --mask: the directions of J restricted to the region (J·M), as `pullback basis --mask`; the previews then show
    // edits that live there.
    const mask = await maskArgs(values);
    // --center-image: the picture the previews are laid onto (e.g. an imported photo at the model's size, as the editor
    // shows it): the centre is it and ± add the edit's change (the gallery job's centerImage).
    let centerImage: Uint8Array<ArrayBuffer> | undefined;
    if (values['center-image'] !== undefined) {
      try {
        centerImage = new Uint8Array(await readFile(values['center-image']));
      } catch {
        throw new UsageError(`--center-image: cannot read ${values['center-image']}`);
      }
    }
    const out = await runCliJob(
      'gallery',
      {
        modelDir: resolveModelDir(positionals, 'gallery'),
        ...(await sourceArgs(values)),
        ...time,
        ...basisParamArgs(values),
        ...editParamArgs(values),
        ...(strength !== undefined ? { strength } : {}),
        ...(previewSteps !== undefined ? { previewSteps } : {}),
        ...(values.directions !== undefined ? { directions: directionList(values.directions) } : {}),
        ...(mask ? { mask } : {}),
        ...(centerImage ? { centerImage } : {}),
        ...providerArg(values.provider),
        ...textArgs(values),
        ...geometryPromptArgs(values),
      },
      { quiet: values.quiet },
    );
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, 'center.png'), out.center.bytes);
    const files: string[] = ['center.png'];
    for (const item of out.items) {
      const strip = `direction-${item.index}.png`;
      const heat = `heat-${item.index}.png`;
      await writeFile(join(values.out, strip), await horizontalStrip([item.minus.bytes, out.center.bytes, item.plus.bytes]));
      await writeFile(join(values.out, heat), item.heat.bytes);
      files.push(strip, heat);
    }
    await writeFile(join(values.out, 'sigma.csv'), `index,sigma\n${out.items.map((i) => `${i.index},${i.sigma}`).join('\n')}\n`);
    files.push('sigma.csv');
    const meta = {
      timestep: out.timestep,
      approximate: 'previews render with few DDIM steps; `pullback edit` renders the exact edit',
      strength: strength ?? GALLERY_DEFAULTS.strength,
      preview_steps: previewSteps ?? GALLERY_DEFAULTS.previewSteps,
      directions: out.items.map((i) => ({ index: i.index, sigma: i.sigma, strip: `direction-${i.index}.png`, heat: `heat-${i.index}.png` })),
      basis: { ...out.basis, residuals: undefined },
      mask: maskMeta(values.mask, values['mask-invert'], out.basis.maskHash),
      seconds: out.elapsedMs / 1000,
    };
    await writeFile(join(values.out, 'gallery.json'), `${JSON.stringify(meta, null, 2)}\n`);
    if (!values.quiet) writeJsonLine({ out: values.out, timestep: out.timestep, files: [...files, 'gallery.json'], seconds: Number(meta.seconds.toFixed(2)) });
    return 0;
  },
};

/**
 * Example strips for docs and closing notes: for each direction of the local basis at (seed, t), the edit at a row
 * of strengths (− … 0 … +), through the engine's own `edit` job on the bundled model.
 *
 *   npx tsx tools/examples/strip.ts --seed 1 --t 0.8 --strengths -6,-3,0,3,6 --dirs 0,1,2,3 --out strip.png
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { defaultModelDir } from '../../src-main/app/bundled-models';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    t: { type: 'string', default: '0.8' },
    k: { type: 'string', default: '8' },
    steps: { type: 'string', default: '50' },
    strengths: { type: 'string', default: '-6,-3,0,3,6' },
    dirs: { type: 'string', default: '0,1,2,3' },
    model: { type: 'string' },
    out: { type: 'string', default: 'strip.png' },
  },
});
const strengths = values.strengths.split(',').map(Number);
const dirs = values.dirs.split(',').map(Number);
const base = {
  seed: Number(values.seed),
  t: Number(values.t),
  steps: Number(values.steps),
  basis: { k: Number(values.k) },
  provider: 'cpu' as const,
  modelDir: values.model ?? defaultModelDir(),
};
const TILE = 128;
const tiles: Buffer[] = [];
let unedited: Uint8Array | null = null;
for (const d of dirs) {
  for (const s of strengths) {
    let png: Uint8Array;
    if (s === 0 && unedited) png = unedited; // strength 0 is the unedited image whatever the direction
    else {
      const r = await runJobInProcess('edit', { ...base, edits: [{ index: d, strength: s }] }, { quiet: true });
      png = r.image.bytes;
      if (s === 0) unedited = png;
      process.stderr.write(`direction ${d} strength ${s}: ${(r.elapsedMs / 1000).toFixed(1)} s\n`);
    }
    tiles.push(await sharp(png).resize(TILE, TILE, { kernel: 'nearest' }).png().toBuffer());
  }
}
await sharp({ create: { width: strengths.length * TILE, height: dirs.length * TILE, channels: 3, background: '#ffffff' } })
  .composite(tiles.map((input, i) => ({ input, left: (i % strengths.length) * TILE, top: Math.floor(i / strengths.length) * TILE })))
  .png()
  .toFile(values.out);
process.stderr.write(`wrote ${values.out}\n`);
process.exit(0);

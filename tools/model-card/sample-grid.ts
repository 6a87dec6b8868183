/**
 * The model card's sample grid: DDIM (η = 0) from seeds 0–15 through the app's own generate job (same RNG, same
 * scheduler options, same ONNX session code as the editor), tiled 4×4 and upscaled ×2 (nearest) for viewing.
 *
 *   npx tsx tools/model-card/sample-grid.ts [model-dir] [--steps 50] [--out resources/models/avatars64/card/samples.png]
 */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { resolveModelDir } from '../../src-main/cli/default-model';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { steps: { type: 'string', default: '50' }, out: { type: 'string' }, seeds: { type: 'string', default: '16' } },
});
const modelDir = resolveModelDir(positionals, 'sample-grid');
const out = values.out ?? `${modelDir}/card/samples_ddim${values.steps}_seeds0-15.png`;
const count = Number(values.seeds);
const cols = Math.ceil(Math.sqrt(count));
const tiles: { input: Buffer; left: number; top: number }[] = [];
let size = 0;
for (let seed = 0; seed < count; seed++) {
  const png = (await runJobInProcess('generate', { modelDir, seed, steps: Number(values.steps) }, { quiet: true })).images[0];
  size = png.width;
  tiles.push({ input: Buffer.from(png.bytes), left: (seed % cols) * size, top: Math.floor(seed / cols) * size });
  process.stderr.write(`seed ${seed} done\n`);
}
mkdirSync(dirname(out), { recursive: true });
const rows = Math.ceil(count / cols);
const grid = await sharp({ create: { width: cols * size, height: rows * size, channels: 3, background: '#ffffff' } })
  .composite(tiles)
  .png()
  .toBuffer();
await sharp(grid).resize(cols * size * 2, rows * size * 2, { kernel: 'nearest' }).png().toFile(out);
process.stderr.write(`wrote ${out}\n`);
process.exit(0);

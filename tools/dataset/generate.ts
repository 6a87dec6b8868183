/**
 * Renders the avatar training set for the bundled default model.
 *
 * DiceBear "avataaars" (design by Pablo Stanley, "free for personal and commercial use"; DiceBear code MIT)
 * varies skin tone, hair style and colour, eyes, eyebrows, mouth, facial hair, accessories and clothes, and we add
 * a background colour per avatar, so the data has many independent factors for the pullback directions to find.
 *
 * Output (under --out, default .data/avatars64/): raw interleaved RGB uint8 stacks
 *   train.u8    [N, S, S, 3] from seeds "train-0" … "train-(N-1)"
 *   heldout.u8  [M, S, S, 3] from seeds "heldout-0" … (disjoint from the training seeds)
 *   manifest.json  counts, size, style, licence, and sha256 of each stack, so a training run can log what it saw.
 * Raw stacks rather than PNG folders: training reads them with one memory map, and they compress well for transfer.
 *
 *   npx tsx tools/dataset/generate.ts [--train 20000] [--heldout 256] [--size 64] [--out .data/avatars64]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { createAvatar } from '@dicebear/core';
import { avataaars } from '@dicebear/collection';
import sharp from 'sharp';

// Pastel and saturated backgrounds: colour is a factor of variation of its own.
const BACKGROUNDS = [
  'b6e3f4', 'c0aede', 'd1d4f9', 'ffd5dc', 'ffdfbf', 'c7f9cc', 'fef3c7', 'e5e7eb',
  '93c5fd', 'fca5a5', 'fcd34d', '86efac', 'a78bfa', 'f9a8d4', '5eead4', 'fdba74',
];

interface Args {
  train: number;
  heldout: number;
  size: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { train: 20000, heldout: 256, size: 64, out: '.data/avatars64' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    if (key === 'out') args.out = value;
    else if (key === 'train' || key === 'heldout' || key === 'size') {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`--${key} must be a positive integer`);
      args[key] = n;
    } else throw new Error(`unknown option ${argv[i]}`);
  }
  return args;
}

export async function renderAvatar(seed: string, size: number): Promise<Buffer> {
  const svg = createAvatar(avataaars, { seed, size, backgroundColor: BACKGROUNDS, backgroundType: ['solid'] }).toString();
  // Render at 4x and downsample: librsvg's antialiasing at 64 px leaves stair-stepped strokes.
  return sharp(Buffer.from(svg), { density: 72 * 4 })
    .resize(size, size, { kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer();
}

async function renderStack(prefix: string, count: number, size: number, path: string): Promise<string> {
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  const concurrency = Math.max(2, cpus().length * 2);
  const started = Date.now();
  try {
    for (let start = 0; start < count; start += concurrency) {
      const seeds = Array.from({ length: Math.min(concurrency, count - start) }, (_, j) => `${prefix}-${start + j}`);
      const images = await Promise.all(seeds.map((s) => renderAvatar(s, size)));
      for (const img of images) {
        if (img.length !== size * size * 3) throw new Error(`rendered ${img.length} bytes, expected ${size * size * 3}`);
        writeSync(fd, img);
        hash.update(img);
      }
      const done = start + seeds.length;
      if (done % 2000 < concurrency || done === count) {
        const rate = done / ((Date.now() - started) / 1000);
        process.stderr.write(`${prefix}: ${done}/${count} (${rate.toFixed(0)} img/s)\n`);
      }
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(args.out, { recursive: true });
  const trainSha = await renderStack('train', args.train, args.size, join(args.out, 'train.u8'));
  const heldoutSha = await renderStack('heldout', args.heldout, args.size, join(args.out, 'heldout.u8'));
  const manifest = {
    generator: 'tools/dataset/generate.ts',
    style: '@dicebear/avataaars',
    dicebear_version: '9.4.3',
    licence: 'Avataaars design by Pablo Stanley (https://avataaars.com/), free for personal and commercial use; ' +
      'DiceBear (https://www.dicebear.com/) by Florian Körner, MIT.',
    size: args.size,
    layout: 'uint8 [N, size, size, 3] RGB, row-major',
    backgrounds: BACKGROUNDS,
    train: { file: 'train.u8', count: args.train, seeds: `train-0 … train-${args.train - 1}`, sha256: trainSha },
    heldout: { file: 'heldout.u8', count: args.heldout, seeds: `heldout-0 … heldout-${args.heldout - 1}`, sha256: heldoutSha },
  };
  writeFileSync(join(args.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  process.stderr.write(`wrote ${args.out}/manifest.json\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`dataset generation failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

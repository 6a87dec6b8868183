/**
 * Child process for the kill-during-save test: saves project A and project B alternately to one file, forever,
 * printing "saved <n>" after each save. The parent SIGKILLs it at a random moment.
 */
import { saveProjectFile, sha256Hex, PROJECT_FORMAT_VERSION, type ProjectManifest } from '../../src-main/core/project';

const [file, sizeText] = process.argv.slice(2);
const size = Number(sizeText);

function project(tag: number): { manifest: ProjectManifest; blobs: Map<string, Uint8Array> } {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * (tag + 3) + tag) & 255;
  const h = sha256Hex(bytes);
  const state = { timestep: 100 * tag, edits: [] };
  return {
    blobs: new Map([[h, bytes]]),
    manifest: {
      format: 'pullback-project',
      formatVersion: PROJECT_FORMAT_VERSION,
      appVersion: 'test',
      createdAt: 'x',
      modifiedAt: 'x',
      model: { name: 'm', dir: '/m' },
      source: { kind: 'seed', seed: tag, steps: 10 },
      state,
      bases: [],
      history: { entries: [{ label: 'New', state }], index: 0 },
      images: { result: h },
    },
  };
}

const a = project(1);
const b = project(2);
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  saveProjectFile(file, n % 2 === 0 ? a : b);
  process.stdout.write(`saved ${n}\n`);
}

/**
 * electron-builder.yml can only be exercised by `npm run dist`, which needs the Electron binary. Here: it validates
 * against electron-builder's own JSON schema, and the native modules stay outside the asar.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
// ajv and js-yaml come with electron-builder (app-builder-lib), so the schema matches the installed version.
const require = createRequire(resolve(ROOT, 'node_modules', 'app-builder-lib', 'package.json'));
const Ajv = require('ajv') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
const yaml = require('js-yaml') as { load(s: string): unknown };

const config = yaml.load(readFileSync(resolve(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  asarUnpack: string[];
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
  files: string[];
};

describe('electron-builder.yml', () => {
  it("is valid for the installed electron-builder's schema", () => {
    const schema = JSON.parse(readFileSync(resolve(ROOT, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
    const ok = validate(config);
    expect(validate.errors ?? null).toBeNull();
    expect(ok).toBe(true);
  });
  it('builds AppImage, deb, NSIS and dmg', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
  });
  it('keeps onnxruntime-node and sharp native files out of the asar and ships only the build output', () => {
    for (const m of ['onnxruntime-node', 'sharp', '@img']) expect(config.asarUnpack).toContain(`**/node_modules/${m}/**`);
    expect(config.files).toContain('out/**');
    expect(config.files.some((f) => f.startsWith('src-'))).toBe(false);
  });
});

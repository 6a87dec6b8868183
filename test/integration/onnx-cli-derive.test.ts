/** `pullback derive`: files written, derive.json contents, --list-h, typed error exit code. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { deriveCommand } from '../../src-main/cli/commands/derive';
import { run, session } from './onnx-harness';

const MODEL = path.resolve(__dirname, '../fixtures/unets/ddpm_unet2d_op14/model.onnx');

describe('pullback derive', () => {
  it('writes jvp/vjp/pullback graphs and derive.json that ORT runs', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'pb-derive-'));
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await deriveCommand.run([MODEL, '--out', out, '--tangents', '2']);
    write.mockRestore();
    expect(code).toBe(0);
    const info = JSON.parse(readFileSync(path.join(out, 'derive.json'), 'utf8'));
    expect(info.h).toBe('/mid_block/resnets.1/Div_output_0');
    expect(info.K).toBe(2);
    expect(info.tangentShape).toEqual([2, 3, 16, 16]);
    expect(info.cotangentShape).toEqual([2, 32, 8, 8]);
    expect(info.activeOps.Conv).toBeGreaterThan(0);
    const s = await session(new Uint8Array(readFileSync(path.join(out, 'pullback.onnx'))), 'all');
    const r = await run(s, {
      sample: { dims: [1, 3, 16, 16], data: new Float32Array(768).fill(0.1) },
      timestep: { dims: [1], data: BigInt64Array.from([10n]) },
      tangent: { dims: [2, 3, 16, 16], data: new Float32Array(1536).fill(0.01) },
    });
    expect(r.x_bar.dims).toEqual([2, 3, 16, 16]);
    expect(r.h_dot.dims).toEqual([2, 32, 8, 8]);
    for (const f of ['jvp.onnx', 'vjp.onnx']) expect(existsSync(path.join(out, f))).toBe(true);
  });

  it('--list-h prints candidates with the automatic choice marked', async () => {
    let text = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((text += String(s)), true));
    const code = await deriveCommand.run([MODEL, '--list-h']);
    write.mockRestore();
    expect(code).toBe(0);
    expect(text).toMatch(/mid_block\s+\[1,32,8,8\]\s+\/mid_block\/resnets\.1\/Div_output_0\s+\(auto\)/);
    expect(text).toMatch(/down_blocks\.0/);
  });

  it('exits 1 with the error code for an unknown h tensor', async () => {
    let text = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((text += String(s)), true));
    const code = await deriveCommand.run([MODEL, '--out', mkdtempSync(path.join(tmpdir(), 'pb-derive-')), '--h', 'nope']);
    write.mockRestore();
    expect(code).toBe(1);
    expect(text).toContain('error [h-not-found]');
  });
});

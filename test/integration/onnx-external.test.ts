/**
 * External weights: a U-Net whose initializers live in a separate file. The derived graphs must keep
 * referencing that file by relative location (no weights copied into them) and ORT must load them from
 * bytes with session.model_external_initializers_file_folder_path; results equal the inline model's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveGraphs, externalizeWeights, readModel } from '../../src-main/core/onnx';
import { isExternal } from '../../src-main/core/onnx/proto';
import { randn, relErr, run, session } from './onnx-harness';

const MODEL = path.resolve(__dirname, '../fixtures/unets/ddpm_unet2d_op14/model.onnx');

describe('external data', () => {
  it('derived graphs reference the weight file and match the inline model', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pb-ext-'));
    const inline = new Uint8Array(readFileSync(MODEL));
    const { model, data } = externalizeWeights(inline, 'weights.pb');
    writeFileSync(path.join(dir, 'model.onnx'), model);
    writeFileSync(path.join(dir, 'weights.pb'), data);
    const ext = await deriveGraphs(path.join(dir, 'model.onnx'), { tangents: 2 });
    const ref = await deriveGraphs(inline, { tangents: 2 });
    expect(ext.info.externalData).toEqual(['weights.pb']);
    expect(ext.info.modelDir).toBe(dir);
    // no weight is embedded in the derived graph: every initializer above the externalize threshold
    // (1 KiB) is an external reference, and the graph shares the weights of the inline derivation
    const inits = readModel(ext.pullback).graph!.initializer;
    expect(inits.filter(isExternal).length).toBeGreaterThan(10);
    expect(inits.filter((t) => !isExternal(t) && t.rawData.length >= 1024)).toEqual([]);
    expect(ext.pullback.length).toBeLessThan(ref.pullback.length / 3);
    const feeds = {
      sample: { dims: [1, 3, 16, 16], data: randn(768, 1) },
      timestep: { dims: [1], data: BigInt64Array.from([500n]) },
      tangent: { dims: [2, 3, 16, 16], data: randn(1536, 2) },
    };
    const a = await run(await session(ext.pullback, 'all', dir), feeds);
    const b = await run(await session(ref.pullback, 'all'), feeds);
    expect(relErr(a.x_bar.data, b.x_bar.data)).toBeLessThan(1e-6);
    expect(relErr(a.h_dot.data, b.h_dot.data)).toBeLessThan(1e-6);
    // without the folder option the relative location cannot be resolved: proof the file is referenced
    await expect(session(ext.pullback, 'all')).rejects.toThrow();
  });
});

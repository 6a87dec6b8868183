import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, FrameError } from '../../../src-main/shared/frame';
import { JOBS } from '../../../src-main/shared/api';

describe('binary frames', () => {
  it('keep Node Buffers binary too (Buffer.toJSON would turn them into JSON numbers), nested anywhere', () => {
    const buf = Buffer.from([9, 8, 7]);
    const view = Buffer.from([0, 0, 5, 6, 7, 0]).subarray(2, 5);
    const out = decodeFrame(encodeFrame({ list: [buf, { deep: view }], n: 3 })) as { list: [Uint8Array, { deep: Uint8Array }]; n: number };
    expect(out.list[0]).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.list[0])).toEqual([9, 8, 7]);
    expect(Array.from(out.list[1].deep)).toEqual([5, 6, 7]);
    expect(out.n).toBe(3);
  });

  it('carry Uint8Arrays as raw bytes, not base64', () => {
    const png = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const frame = encodeFrame({ id: 1, ok: true, result: { images: [{ bytes: png, width: 8 }] } });
    // The header is small JSON; the 1000 bytes follow verbatim.
    expect(frame.length).toBeLessThan(1000 + 200);
    const back = decodeFrame(frame) as { result: { images: { bytes: Uint8Array; width: number }[] } };
    expect(back.result.images[0].bytes).toEqual(png);
    expect(back.result.images[0].width).toBe(8);
  });
  it('round-trip arbitrary JSON with embedded byte arrays', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }), (json, blobs) => {
        const value = { json, blobs };
        const back = decodeFrame(encodeFrame(value)) as typeof value;
        expect(back.blobs).toEqual(blobs);
        expect(JSON.stringify(back.json)).toEqual(JSON.stringify(json));
      }),
      { seed: 20261126, numRuns: 200 },
    );
  });
  it('reject truncated or junk frames with FrameError', () => {
    const f = encodeFrame({ a: new Uint8Array(10) });
    expect(() => decodeFrame(f.subarray(0, f.length - 1))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([1, 2]))).toThrow(FrameError);
    expect(() => decodeFrame(Uint8Array.from([5, 0, 0, 0, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b]))).toThrow(FrameError);
  });
});

describe('job schemas', () => {
  it('fill defaults and refuse bad input', () => {
    expect(JOBS.generate.input.parse({ modelDir: '/m', seed: 1, steps: 10 })).toEqual({
      modelDir: '/m',
      seed: 1,
      steps: 10,
      eta: 0,
      batch: 1,
      provider: 'auto',
    });
    expect(JOBS.generate.input.safeParse({ modelDir: '/m', seed: 1.5, steps: 10 }).success).toBe(false);
    expect(JOBS.generate.input.safeParse({ modelDir: '', seed: 1, steps: 10 }).success).toBe(false);
    expect(JOBS.generate.input.safeParse({ modelDir: '/m', seed: 1, steps: 10, eta: 1.5 }).success).toBe(false);
    expect(JOBS.generate.input.safeParse({ modelDir: '/m', seed: 1, steps: 10, provider: 'tpu' }).success).toBe(false);
  });
});

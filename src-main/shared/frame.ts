/**
 * Binary framing for WebSocket messages, so image bytes travel as bytes and not as base64 JSON.
 * Frame = u32 LE header length | UTF-8 JSON header | binary attachments back to back.
 * In the JSON, each Uint8Array is replaced by {"$bin": index} and its byte length listed in `lengths`.
 */

interface Header {
  v: unknown;
  lengths: number[];
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodeFrame(value: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  // The replacer reads the holder's own value (`this[key]`), not `v`: JSON.stringify calls toJSON first, and Node's
  // Buffer (a Uint8Array) turns itself into {type: 'Buffer', data: [...]} there, which would travel as JSON numbers.
  const json = JSON.stringify({ v: value, lengths: [] } satisfies Header, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    if (raw instanceof Uint8Array) {
      blobs.push(raw);
      return { $bin: blobs.length - 1 };
    }
    return v;
  });
  // `lengths` was serialised empty; patch it now that the blobs are known (it is the last key).
  const full = json.slice(0, json.lastIndexOf('"lengths":[]')) + `"lengths":[${blobs.map((b) => b.length).join(',')}]}`;
  const head = new TextEncoder().encode(full);
  const total = 4 + head.length + blobs.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let off = 4 + head.length;
  for (const b of blobs) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

export function decodeFrame(frame: Uint8Array): unknown {
  if (frame.length < 4) throw new FrameError('frame too short');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headLen = view.getUint32(0, true);
  if (4 + headLen > frame.length) throw new FrameError('frame header runs past the end');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(frame.subarray(4, 4 + headLen))) as Header;
  } catch {
    throw new FrameError('frame header is not JSON');
  }
  if (!Array.isArray(header.lengths) || header.lengths.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new FrameError('frame lengths are malformed');
  }
  const blobs: Uint8Array[] = [];
  let off = 4 + headLen;
  for (const n of header.lengths) {
    if (off + n > frame.length) throw new FrameError('frame attachment runs past the end');
    blobs.push(frame.slice(off, off + n));
    off += n;
  }
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === '$bin' && typeof o.$bin === 'number') {
        const b = blobs[o.$bin];
        if (!b) throw new FrameError(`attachment ${o.$bin} missing`);
        return b;
      }
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = revive(o[k]);
      return out;
    }
    return v;
  };
  return revive(header.v);
}

/**
 * Writing a project zip without holding the main thread: CRC-32 by zlib (native; fflate's zipSync computes it in
 * JavaScript, ~330 ms for a 48 MiB image) and the manifest deflated in libuv's thread pool. Blobs are stored, as in
 * encodeProject. The archive is a plain zip (no data descriptors, no zip64), readable by zip-read.ts and fflate.
 * It comes back as its parts, headers and the images' own bytes, never concatenated: copying 36 MiB into a fresh
 * buffer holds the thread for ~150 ms (page faults), and the parts go to disk as they are.
 */
import { crc32, deflateRaw } from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Deflate this entry (the manifest); stored otherwise (images, compressed already). */
  deflate: boolean;
}

/** DOS date/time of 2000-01-01 00:00, a fixed stamp so the same project encodes to the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;

function deflateAsync(data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => deflateRaw(data, { level: 6 }, (err, out) => (err ? reject(err) : resolve(out))));
}

export async function buildZipAsync(entries: ZipInput[]): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data) >>> 0;
    const body = e.deflate ? await deflateAsync(e.data) : e.data;
    if (body.length > 0xfffffffe || e.data.length > 0xfffffffe || offset > 0xfffffffe) throw new RangeError('project too large for a zip without zip64');
    const header = (central: boolean) => {
      const h = Buffer.alloc(central ? 46 : 30);
      let p = 0;
      h.writeUInt32LE(central ? 0x02014b50 : 0x04034b50, p);
      p += 4;
      if (central) {
        h.writeUInt16LE(20, p); // version made by
        p += 2;
      }
      h.writeUInt16LE(20, p); // version needed
      h.writeUInt16LE(0x0800, p + 2); // UTF-8 names
      h.writeUInt16LE(e.deflate ? 8 : 0, p + 4);
      h.writeUInt16LE(DOS_TIME, p + 6);
      h.writeUInt16LE(DOS_DATE, p + 8);
      h.writeUInt32LE(crc, p + 10);
      h.writeUInt32LE(body.length, p + 14);
      h.writeUInt32LE(e.data.length, p + 18);
      h.writeUInt16LE(name.length, p + 22);
      if (central) h.writeUInt32LE(offset, 42);
      return h;
    };
    const local = header(false);
    parts.push(local, name, body);
    central.push(header(true), name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return [...parts, cd, end];
}

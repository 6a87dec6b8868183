/** Hand-built zips for hostile-project tests: any declared sizes, and cheap deflate bombs. */
import { constants, deflateRawSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** The entry's bytes as stored (already deflated when method is 8). */
  data: Uint8Array;
  method: 0 | 8;
  /** Uncompressed size written into both headers (a lie, when the test wants one). */
  declaredSize: number;
}

/**
 * A raw deflate stream that inflates to `mib` MiB of `byte`, built in milliseconds: one MiB compressed with a sync
 * flush (non-final blocks, byte-aligned) repeated `mib` times, then an empty final block. Each copy only refers
 * back within itself, so the concatenation is valid deflate.
 */
export function deflateBomb(mib: number, byte = 0x20): Uint8Array {
  const one = deflateRawSync(Buffer.alloc(1024 * 1024, byte), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const out = Buffer.alloc(one.length * mib + 2);
  for (let i = 0; i < mib; i++) one.copy(out, i * one.length);
  out[one.length * mib] = 0x03; // BFINAL=1, fixed Huffman, end of block
  out[one.length * mib + 1] = 0x00;
  return new Uint8Array(out);
}

/** A zip (no CRCs: readers under test must not need them to refuse a hostile file) of the given entries. */
export function buildZip(entries: RawEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.declaredSize >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(e.method, 10);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.declaredSize >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(e.data));
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, eocd]));
}

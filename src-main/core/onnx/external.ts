/**
 * Moving inline initializers into one external-data file, so a single-file model (weights embedded)
 * can be served like an external-data export: the derived graphs then reference the weights by
 * relative location instead of carrying a copy each. Offsets are 4 KiB-aligned so ORT can mmap.
 * Only inline data is read; existing external entries are left untouched.
 */
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { OnnxDeriveError } from './errors';
import { isExternal, readModel, writeModel } from './proto';

const ALIGN = 4096;

export function externalizeWeights(
  modelBytes: Uint8Array,
  location: string,
  minBytes = 1024,
): { model: Uint8Array; data: Uint8Array } {
  if (location.startsWith('/') || location.split(/[\\/]/).includes('..')) {
    throw new OnnxDeriveError('bad-option', `external data location must be relative and inside the model folder: ${location}`);
  }
  const model = readModel(modelBytes);
  const chunks: { offset: number; bytes: Uint8Array }[] = [];
  let size = 0;
  for (const t of model.graph!.initializer) {
    if (isExternal(t) || t.rawData.length < minBytes) continue;
    const offset = Math.ceil(size / ALIGN) * ALIGN;
    chunks.push({ offset, bytes: t.rawData });
    size = offset + t.rawData.length;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    t.externalData = [entry('location', location), entry('offset', String(offset)), entry('length', String(t.rawData.length))];
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
  }
  const data = new Uint8Array(size);
  for (const c of chunks) data.set(c.bytes, c.offset);
  return { model: writeModel(model), data };
}

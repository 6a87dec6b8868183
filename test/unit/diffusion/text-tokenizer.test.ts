import { describe, expect, it } from 'vitest';
import { readFile, mkdtemp, cp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFolder } from '../../../src-main/core/diffusion/model-folder';
import { loadClipTokenizer } from '../../../src-main/core/diffusion/tokenizer';
import { ModelFolderError } from '../../../src-main/core/diffusion/errors';
import { TEXT_FOLDERS, textFolder, tokenReference } from '../../helpers/text-fixtures';

const readAny = (f: string) => readFile(f);

describe('CLIP tokenizer from the folder files', () => {
  // sd1-diffusers / sd1-diffusers-fp16: vocab.json + merges.txt only; *-optimum: tokenizer.json. The references are
  // the python script's own BPE (tools/fixtures/text_pipelines/clip_bpe.py), not this library.
  it.each(TEXT_FOLDERS)('%s: ids equal the reference (BOS, EOS, padding, truncation)', async (name) => {
    const model = await loadModelFolder(textFolder(name));
    const tok = await loadClipTokenizer(model.text!.tokenizer, readAny);
    const ref = tokenReference(name);
    expect(tok.maxLength).toBe(ref.max_length);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([ref.bos_id, ref.eos_id, ref.pad_id]);
    for (const p of ref.prompts) {
      const got = tok.encode(p.text);
      expect(got.ids, p.text).toEqual(p.ids);
      expect(got.truncated, p.text).toBe(p.truncated);
      expect(got.tokenCount, p.text).toBe(p.tokens_before_truncation);
    }
    // the set covers what it claims to: a truncated prompt, and (SD 2) padding with "!" = id 0
    expect(ref.prompts.some((p) => p.truncated)).toBe(true);
    if (name === 'sd2v-optimum') expect(ref.pad_id).toBe(0);
    else expect(ref.pad_id).toBe(ref.eos_id);
  });

  it('builds the same tokenizer from vocab.json + merges.txt as from tokenizer.json', async () => {
    const model = await loadModelFolder(textFolder('sd1-optimum'));
    const files = model.text!.tokenizer;
    const fromJson = await loadClipTokenizer(files, readAny);
    const fromSlow = await loadClipTokenizer({ ...files, tokenizerJson: null }, readAny);
    for (const p of ['Hello  WORLD, it\'s 42 élan!', 'ｆｕｌｌ width', 'emoji 🐱 cat', '']) {
      expect(fromSlow.encode(p)).toEqual(fromJson.encode(p));
    }
  });

  it('names the file when the vocabulary is broken or a special token is missing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tok-'));
    try {
      const dir = join(root, 'm');
      await cp(textFolder('sd1-diffusers'), dir, { recursive: true });
      const model = await loadModelFolder(dir);
      await writeFile(join(dir, 'tokenizer', 'vocab.json'), '{"a": 1,');
      const err = await loadClipTokenizer(model.text!.tokenizer, readAny).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFolderError);
      expect((err as ModelFolderError).code).toBe('malformed-json');
      expect((err as ModelFolderError).file).toBe(join(dir, 'tokenizer', 'vocab.json'));
      await cp(join(textFolder('sd1-diffusers'), 'tokenizer', 'vocab.json'), join(dir, 'tokenizer', 'vocab.json'));
      const err2 = await loadClipTokenizer({ ...model.text!.tokenizer, padToken: '<|pad|>' }, readAny).catch((e: unknown) => e);
      expect((err2 as ModelFolderError).code).toBe('malformed-json');
      expect((err2 as Error).message).toMatch(/pad_token "<\|pad\|>" is not in the vocabulary/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * CLIP tokenization of prompts from a model folder's own tokenizer files, with @huggingface/tokenizers (a pure
 * JS port of the Rust `tokenizers` library; nothing is fetched: it is built from the JSON we read here).
 *
 * - tokenizer.json (Optimum's folders) is used as written.
 * - Without it (diffusers' ONNX converter saves only the slow tokenizer: vocab.json + merges.txt) the same
 *   structure is built that transformers' CLIPConverter builds for CLIPTokenizerFast: NFC, every run of whitespace
 *   to one space, lowercase; split on CLIP's pattern (matches kept, whitespace removed) and byte-level mapping; BPE
 *   with "</w>" on a word's last symbol. merges.txt is read as CLIPTokenizer reads it: the first line (the
 *   "#version" header) is skipped and at most 49152 − 256 − 2 merges are taken.
 *
 * The ids the SD pipelines feed the text encoder are built here, not by the library's post-processor, so they are
 * the same for both sources: BOS, the prompt's tokens cut to maxLength − 2, EOS, then the pad token up to maxLength.
 * SD 1.x pads with <|endoftext|>, SD 2.x with "!" (id 0): the text encoder sees every position, so the pad token
 * changes the embedding and must be the folder's own.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFolderError } from './errors';
import { folderError } from './model-folder';
import type { TokenizerFiles } from './text-model-folder';

export interface TokenizedPrompt {
  /** maxLength ids: BOS, tokens, EOS, padding. */
  ids: number[];
  /** The prompt had more than maxLength − 2 tokens; the rest was dropped. */
  truncated: boolean;
  /** Tokens of the prompt before truncation (without BOS/EOS). */
  tokenCount: number;
}

export interface ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly vocabSize: number;
  encode(prompt: string): TokenizedPrompt;
}

/** Reads a tokenizer file (the caller confines reads to the model folder); rejects with any error. */
export type ReadFile = (file: string) => Promise<Uint8Array>;

const CLIP_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
/** CLIPTokenizer: `merges_handle.read().strip().split("\n")[1 : 49152 - 256 - 2 + 1]`. */
const MAX_MERGES = 49152 - 256 - 2;

function parseJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (err) {
    throw new ModelFolderError('malformed-json', file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelFolderError('malformed-json', file, 'expected a JSON object');
  return v as Record<string, unknown>;
}

/**
 * One tokenizer file through `readFile` (the worker passes readRegularFile confined to the model folder): a link out,
 * a FIFO or device is 'unsafe-file' and a file over the cap 'malformed-json', as for every other file of the folder.
 */
async function read(readFile: ReadFile, file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    if (err instanceof ModelFolderError) throw err;
    throw folderError(err, file, 'malformed-json');
  }
}

/** The tokenizer.json transformers' CLIPConverter would write for this vocabulary and merges. */
export function clipTokenizerJson(vocab: Record<string, number>, merges: string[], f: Pick<TokenizerFiles, 'bosToken' | 'eosToken' | 'padToken'>): Record<string, unknown> {
  const special = [...new Set([f.bosToken, f.eosToken, f.padToken])].filter((t) => /^<\|.*\|>$/.test(t) && t in vocab);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true })),
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: f.eosToken,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

function parseMerges(text: string, file: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').trim().split('\n');
  const body = lines[0]?.startsWith('#version') ? lines.slice(1) : lines;
  const merges = body.slice(0, MAX_MERGES).filter((l) => l.length > 0);
  for (const [i, l] of merges.entries()) {
    if (l.split(' ').length !== 2) throw new ModelFolderError('malformed-json', file, `line ${i + 2} is not a merge "a b": ${JSON.stringify(l.slice(0, 40))}`);
  }
  return merges;
}

/** Build the prompt tokenizer of a model folder's tokenizer/ files. Throws ModelFolderError naming the file. */
export async function loadClipTokenizer(files: TokenizerFiles, readFile: ReadFile): Promise<ClipTokenizer> {
  const config = files.config ? parseJson(await read(readFile, files.config), files.config) : {};
  let json: Record<string, unknown>;
  let source: string;
  if (files.tokenizerJson) {
    source = files.tokenizerJson;
    json = parseJson(await read(readFile, files.tokenizerJson), files.tokenizerJson);
    const model = json.model as { type?: unknown } | undefined;
    if (!model || model.type !== 'BPE') throw new ModelFolderError('malformed-json', source, 'expected a BPE "model" (a CLIP tokenizer)');
  } else {
    source = files.vocab!;
    const vocab = parseJson(await read(readFile, files.vocab!), files.vocab!);
    for (const [k, v] of Object.entries(vocab)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ModelFolderError('malformed-json', files.vocab!, `token ${JSON.stringify(k)} has id ${JSON.stringify(v)}, expected an integer ≥ 0`);
    }
    const merges = parseMerges(new TextDecoder('utf-8').decode(await read(readFile, files.merges!)), files.merges!);
    json = clipTokenizerJson(vocab as Record<string, number>, merges, files);
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (err) {
    throw new ModelFolderError('malformed-json', source, `cannot build the tokenizer: ${(err as Error).message}`);
  }
  const idOf = (token: string, what: string): number => {
    const id = tok.token_to_id(token);
    if (id === undefined) throw new ModelFolderError('malformed-json', files.config ?? source, `${what} ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  const bosId = idOf(files.bosToken, 'bos_token');
  const eosId = idOf(files.eosToken, 'eos_token');
  const padId = idOf(files.padToken, 'pad_token');
  const maxLength = files.maxLength;
  const vocabSize = tok.get_vocab(true).size;
  return {
    maxLength,
    bosId,
    eosId,
    padId,
    vocabSize,
    encode(prompt: string): TokenizedPrompt {
      const body = tok.encode(prompt, { add_special_tokens: false }).ids;
      const keep = body.slice(0, maxLength - 2);
      const ids = [bosId, ...keep, eosId];
      while (ids.length < maxLength) ids.push(padId);
      return { ids, truncated: body.length > keep.length, tokenCount: body.length };
    },
  };
}

/** Argument parsing shared by the pullback commands (sample, invert, basis, edit). */
import { readFile } from 'node:fs/promises';
import { decodeNpy, NpyFormatError } from '../core/tensor/npy';
import type { Tensor } from '../core/tensor';
import { UsageError } from './types';

export function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export function int(name: string, v: string | undefined): number | undefined {
  const n = num(name, v);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return n;
}

export async function readNpy(file: string, what: string): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new UsageError(`${what}: cannot read ${file}`);
  }
  try {
    return decodeNpy(bytes);
  } catch (err) {
    if (err instanceof NpyFormatError) throw new UsageError(`${what}: ${file}: ${err.message}`);
    throw err;
  }
}

/** Options every pullback command shares. */
export const COMMON_OPTIONS = {
  t: { type: 'string' },
  timestep: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  xt: { type: 'string' },
  provider: { type: 'string' },
  out: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** --t F | --timestep N and --steps N. */
export function timeArgs(values: { t?: string; timestep?: string; steps?: string }): { t?: number; timestep?: number; steps?: number } {
  if ((values.t === undefined) === (values.timestep === undefined)) throw new UsageError('give exactly one of --t F (fraction of T) or --timestep N');
  return { t: num('t', values.t), timestep: int('timestep', values.timestep), steps: int('steps', values.steps) };
}

/** --seed N | --xt file.npy → the job's seed/xt fields. */
export async function sourceArgs(values: { seed?: string; xt?: string }): Promise<{ seed?: number; xt?: { dims: number[]; data: Uint8Array<ArrayBuffer> } }> {
  if ((values.seed === undefined) === (values.xt === undefined)) throw new UsageError('give exactly one of --seed N or --xt xt.npy');
  if (values.seed !== undefined) return { seed: int('seed', values.seed) };
  const t = await readNpy(values.xt!, '--xt');
  return { xt: { dims: [...t.dims], data: new Uint8Array(t.data.slice().buffer) } };
}

/**
 * Prompt options of the commands that run a text-conditioned model (generate, sample, basis, edit): not in
 * COMMON_OPTIONS, so a command that does not pass them on refuses them instead of ignoring them.
 */
export const TEXT_OPTIONS = {
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  'guidance-scale': { type: 'string' },
} as const;

/** --prompt TEXT, --negative-prompt TEXT, --guidance-scale G → the job's text fields (absent ones stay absent). */
export function textArgs(values: { prompt?: string; 'negative-prompt'?: string; 'guidance-scale'?: string }): {
  prompt?: string;
  negativePrompt?: string;
  guidanceScale?: number;
} {
  return {
    ...(values.prompt !== undefined ? { prompt: values.prompt } : {}),
    ...(values['negative-prompt'] !== undefined ? { negativePrompt: values['negative-prompt'] } : {}),
    ...(values['guidance-scale'] !== undefined ? { guidanceScale: num('guidance-scale', values['guidance-scale']) } : {}),
  };
}

/** Text models: the prompt J is taken at (`--basis-prompt`) and the edit guidance's prompt (`--edit-prompt`). */
export const BASIS_PROMPT_OPTION = { 'basis-prompt': { type: 'string' } } as const;
export const EDIT_PROMPT_OPTION = { 'edit-prompt': { type: 'string' } } as const;

/** --basis-prompt TEXT, --edit-prompt TEXT → basisPrompt, editPrompt (absent ones stay absent: the path's prompt). */
export function geometryPromptArgs(values: { 'basis-prompt'?: string; 'edit-prompt'?: string }): { basisPrompt?: string; editPrompt?: string } {
  return {
    ...(values['basis-prompt'] !== undefined ? { basisPrompt: values['basis-prompt'] } : {}),
    ...(values['edit-prompt'] !== undefined ? { editPrompt: values['edit-prompt'] } : {}),
  };
}

/** One line on stderr when CLIP dropped the end of the prompt. */
export function promptNotice(p: { truncated: boolean; tokens: number; maxTokens: number } | undefined, quiet?: boolean): void {
  if (p?.truncated && !quiet) process.stderr.write(`notice: the prompt has ${p.tokens} tokens; the text encoder reads the first ${p.maxTokens}, the rest was dropped\n`);
}

export function writeJsonLine(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

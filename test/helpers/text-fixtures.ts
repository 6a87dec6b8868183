/** Paths and readers of the tiny Stable Diffusion fixtures (test/fixtures/text-pipelines, tools/fixtures/make_text_pipelines.py). */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import type { Tensor } from '../../src-main/core/tensor';

export const TEXT_FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'text-pipelines');
export const TEXT_FOLDERS = ['sd1-diffusers', 'sd1-optimum', 'sd1-diffusers-fp16', 'sd2v-optimum'] as const;
export type TextFolderName = (typeof TEXT_FOLDERS)[number];
export const textFolder = (name: TextFolderName): string => join(TEXT_FIXTURES, name);

export interface FixtureInfo {
  name: string;
  arch: 'sd1' | 'sd2v';
  layout: 'diffusers' | 'optimum';
  fp16: boolean;
  h_tensor: string;
  references: string;
  vae_encoder_output: 'latent_sample' | 'latent_parameters';
}
export interface ReferenceMeta {
  timestep: number;
  guidance_scale: number;
  prompt_a: string;
  prompt_b: string;
  x_dims: number[];
  h_dims: number[];
  K: number;
  scaling_factor: number;
  prediction_type: string;
}
export interface TokenReference {
  max_length: number;
  pad_token: string;
  pad_id: number;
  bos_id: number;
  eos_id: number;
  prompts: { text: string; ids: number[]; truncated: boolean; tokens_before_truncation: number }[];
}

export function fixtureInfo(name: TextFolderName): FixtureInfo {
  return JSON.parse(readFileSync(join(textFolder(name), 'fixture.json'), 'utf8')) as FixtureInfo;
}
export function referenceDir(name: TextFolderName): string {
  return join(TEXT_FIXTURES, fixtureInfo(name).references);
}
export function referenceMeta(name: TextFolderName): ReferenceMeta {
  return JSON.parse(readFileSync(join(referenceDir(name), 'meta.json'), 'utf8')) as ReferenceMeta;
}
export function tokenReference(name: TextFolderName): TokenReference {
  return JSON.parse(readFileSync(join(referenceDir(name), 'tokens.json'), 'utf8')) as TokenReference;
}
export async function reference(name: TextFolderName, file: string): Promise<Tensor> {
  return decodeNpy(await readFile(join(referenceDir(name), file)));
}

/** ‖a − b‖ / ‖b‖ in float64. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

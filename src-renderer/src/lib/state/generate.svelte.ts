/**
 * State of the Generate panel. UI reads these $state fields; only small values live here (the PNG bytes are kept
 * in a $state.raw field, never proxied, and never tensors).
 */
import { runJob } from '../../../../src-main/shared/client';
import type { AppInfo, PullbackApi } from '../../../../src-main/shared/api';
import { toShownError, type ShownError } from '../errors';

export interface ShownImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

export const CUSTOM_MODEL = '__custom__';

export class GenerateState {
  info = $state.raw<AppInfo | null>(null);
  /** A bundled model's dir, or CUSTOM_MODEL to use `customDir`. */
  modelChoice = $state(CUSTOM_MODEL);
  customDir = $state('');
  seed = $state(0);
  steps = $state(50);
  eta = $state(0);
  running = $state(false);
  fraction = $state(0);
  message = $state('');
  etaMs = $state<number | undefined>(undefined);
  error = $state<ShownError | null>(null);
  provider = $state('');
  /** Why a preferred GPU provider was not used (shown on hover). */
  fallbackReason = $state('');
  image = $state.raw<ShownImage | null>(null);
  private controller: AbortController | null = null;

  constructor(private readonly api: PullbackApi) {}

  get modelDir(): string {
    return this.modelChoice === CUSTOM_MODEL ? this.customDir.trim() : this.modelChoice;
  }

  get canGenerate(): boolean {
    return !this.running && this.modelDir.length > 0 && this.steps >= 1;
  }

  async load(): Promise<void> {
    try {
      this.info = await this.api.getAppInfo();
      const first = this.info.bundledModels[0];
      if (first) this.modelChoice = first.dir;
    } catch (err) {
      this.error = toShownError(err);
    }
  }

  async browse(): Promise<void> {
    try {
      const dir = await this.api.pickModelFolder();
      if (dir) {
        this.modelChoice = CUSTOM_MODEL;
        this.customDir = dir;
      }
    } catch (err) {
      this.error = toShownError(err);
    }
  }

  randomizeSeed(): void {
    this.seed = Math.floor(Math.random() * 2 ** 31);
  }

  async generate(): Promise<void> {
    if (!this.canGenerate) return;
    this.running = true;
    this.error = null;
    this.fraction = 0;
    this.etaMs = undefined;
    this.provider = '';
    this.fallbackReason = '';
    this.message = 'starting';
    const controller = new AbortController();
    this.controller = controller;
    try {
      const out = await runJob(
        this.api,
        'generate',
        { modelDir: this.modelDir, seed: this.seed, steps: this.steps, eta: this.eta },
        {
          signal: controller.signal,
          onProgress: (p) => {
            this.fraction = p.fraction;
            this.message = p.message;
            this.etaMs = p.etaMs;
          },
        },
      );
      const img = out.images[0];
      this.image = { bytes: img.bytes, width: img.width, height: img.height };
      this.provider = out.provider;
      this.fallbackReason = out.fallbackReason ?? '';
      this.message = `done in ${(out.elapsedMs / 1000).toFixed(1)} s`;
    } catch (err) {
      this.error = toShownError(err);
      this.message = '';
    } finally {
      this.running = false;
      this.controller = null;
    }
  }

  cancel(): void {
    this.controller?.abort();
  }
}

export function formatEta(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s left` : `${s} s left`;
}

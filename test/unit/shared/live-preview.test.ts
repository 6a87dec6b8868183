/** The live preview's job input: Apply's edit with fewer guidance steps (same n·s) and a short render, nothing else changed. */
import { describe, expect, it } from 'vitest';
import { livePreviewJobInput, LIVE_PREVIEW_GUIDANCE_STEPS, LIVE_PREVIEW_RENDER_STEPS } from '../../../src-main/shared/live-preview';
import { applyJobInput, type ApplyRequest } from '../../../src-main/shared/edit-job';
import { EDIT_PARAMS_DEFAULT } from '../../../src-main/shared/edit-defaults';

const request = (params: Partial<ApplyRequest['params']> = {}): ApplyRequest => ({
  modelDir: '/m',
  source: { seed: 4 },
  timestep: 595,
  steps: 100,
  basis: { k: 8, method: 'krylov' },
  edits: [
    { index: 0, strength: 1.5 },
    { index: 3, strength: -0.5 },
  ],
  params: { ...EDIT_PARAMS_DEFAULT, ...params },
  textConditioned: false,
  provider: 'cpu',
});

describe('livePreviewJobInput', () => {
  it('guidance: fewer steps with the same n·s and a short render; everything else as Apply sends it', () => {
    const exact = applyJobInput(request({ guidanceSteps: 16, scale: 0.1 }));
    const preview = livePreviewJobInput(request({ guidanceSteps: 16, scale: 0.1 }));
    expect(preview).toEqual({ ...exact, guidanceSteps: LIVE_PREVIEW_GUIDANCE_STEPS, scale: (16 * 0.1) / LIVE_PREVIEW_GUIDANCE_STEPS, renderSteps: LIVE_PREVIEW_RENDER_STEPS });
  });

  it('move mode keeps its parameters; a render already shorter than the preview stays as it is; n = 0 stays 0', () => {
    const move = request({ mode: 'move', alpha: 2, renderSteps: 100 });
    expect(livePreviewJobInput(move)).toEqual({ ...applyJobInput(move), renderSteps: LIVE_PREVIEW_RENDER_STEPS });
    const short = request({ renderSteps: 5 });
    expect(livePreviewJobInput(short).renderSteps).toBe(5);
    expect(livePreviewJobInput(request({ guidanceSteps: 0 })).guidanceSteps).toBe(0);
    // Already as few steps as a preview takes: unchanged.
    expect(livePreviewJobInput(request({ guidanceSteps: 3, scale: 0.5 }))).toMatchObject({ guidanceSteps: 3, scale: 0.5 });
  });
});

/**
 * What the canvas shows while a strength slider moves (issue 12): the same edit as Apply, approximated so that it
 * is ready in about a second, then replaced by the exact render when the slider rests.
 *
 * The approximation keeps the guidance's n·s but takes LIVE_PREVIEW_GUIDANCE_STEPS steps of it (4 forward pairs
 * instead of 16) and renders with LIVE_PREVIEW_RENDER_STEPS DDIM steps (instead of Apply's 100). Measured on the
 * bundled model against Apply's image (PSNR, 8-bit; `npm run bench -- preview` and test/integration/live-preview):
 * 4 steps + 10-step render: 30–34 dB at strengths −2…+3 (the unedited image is 21–51 dB from the edited one);
 * ONE step of n·s (a single forward pair) is as good at strength 1 (≈ 52 dB before the short render) but falls to
 * 18–24 dB at strength 2–3, where the guidance's ε differences change as x moves. The short render adds a little
 * grain, which is why the canvas labels the preview until the exact image replaces it.
 * Move mode is one step already; only its render is shortened.
 * No Node imports (the renderer imports this file).
 */
import type { JobInput } from './api';
import { applyJobInput, type ApplyRequest } from './edit-job';

/** DDIM steps of a live preview's render. */
export const LIVE_PREVIEW_RENDER_STEPS = 10;
/** Guidance steps of a live preview (with the scale raised so n·s stays Apply's). */
export const LIVE_PREVIEW_GUIDANCE_STEPS = 4;

/** The `edit` job input of a live preview of what `applyJobInput(r)` renders exactly. */
export function livePreviewJobInput(r: ApplyRequest): JobInput<'edit'> {
  const exact = applyJobInput(r);
  const p = r.params;
  return {
    ...exact,
    renderSteps: Math.min(LIVE_PREVIEW_RENDER_STEPS, p.renderSteps),
    ...(p.mode === 'guidance' && p.guidanceSteps > LIVE_PREVIEW_GUIDANCE_STEPS
      ? { guidanceSteps: LIVE_PREVIEW_GUIDANCE_STEPS, scale: (p.guidanceSteps * p.scale) / LIVE_PREVIEW_GUIDANCE_STEPS }
      : {}),
  };
}

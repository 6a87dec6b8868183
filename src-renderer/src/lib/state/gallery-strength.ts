import { GALLERY_DEFAULTS } from '../../../../src-main/shared/edit-defaults';

/**
 * The gallery's preview strength: the edit strength each −/+ preview shows (the gallery job's `strength`).
 *
 * Measured on the bundled model (test/integration/gallery-preview-strength.test.ts: mean absolute change of the ±
 * previews against the centre preview in 8-bit levels, seeds 2 and 7, k = 4, t = 0.6·T, 100 steps, 20 preview steps,
 * 16 previews per strength):
 *   strength 1: mean 3.02 (min 0.46, max 15.95)
 *   strength 2: mean 4.23 (min 0.76, max 16.88)
 *   strength 3: mean 5.77 (min 1.06, max 17.47)
 * Strength 1 leaves half the directions' previews within a level or two of the centre (issue 16: "previews show
 * nothing"); 3 about doubles the change and lifts the weakest direction above one level, while staying within the
 * range the sliders use. Users change it in the gallery; that re-renders only the previews (the basis comes from
 * the engine's cache). The value lives in shared/edit-defaults.ts, so `pullback gallery` previews the same strength.
 */

export const GALLERY_PREVIEW_STRENGTH: number = GALLERY_DEFAULTS.strength;

/** The range of the gallery's preview-strength field. */
export const PREVIEW_STRENGTH_LIMITS = { min: 0.25, max: 10, step: 0.25 } as const;

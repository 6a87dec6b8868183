/** The guidance/move parameters of an `edit` or `gallery` request, mapped once onto core/edit's options. */
import type { Tensor } from '../../../core/tensor';
import type { NoisePredictor } from '../../../core/diffusion/generate';
import { editLatent, type EditDirection, type EditMode, type EditOptions } from '../../../core/edit/guidance';
import { asUserError } from './user-errors';

/** The guidance/move parameters an `edit` or `gallery` request carries (shared/api.ts editParams). */
export interface EditRequestParams {
  mode: EditMode;
  alpha: number;
  guidanceSteps: number;
  scale: number;
  delta: number;
}

/**
 * editLatent with a request's parameters, mapped once to the core's option names; a core EditError surfaces as a
 * typed user error.
 */
export function editFromRequest(
  predictor: NoisePredictor,
  x: Tensor,
  directions: readonly EditDirection[],
  timestep: number,
  request: EditRequestParams,
  extra: Pick<EditOptions, 'composition' | 'signal' | 'onProgress' | 'region'>,
): Promise<Tensor> {
  return editLatent(predictor, x, directions, {
    timestep,
    mode: request.mode,
    alpha: request.alpha,
    steps: request.guidanceSteps,
    scale: request.scale,
    delta: request.delta,
    ...extra,
  }).catch((err: unknown) => {
    throw asUserError(err);
  });
}

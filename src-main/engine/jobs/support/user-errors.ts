/** Core option errors that the user caused, mapped to the API's invalid-argument. */
import { InvalidArgumentError } from '../../../core/diffusion/errors';
import { GeometryError } from '../../../core/geometry/errors';
import { EditError } from '../../../core/edit/errors';
import { MaskError } from '../../../core/geometry/mask';

/** Geometry/edit option errors reach the user as invalid-argument (their codes are not API codes). */
export function asUserError(err: unknown): unknown {
  if (err instanceof GeometryError && (err.code === 'bad-option' || err.code === 'bad-shape')) return new InvalidArgumentError(err.message);
  if (err instanceof EditError && (err.code === 'bad-option' || err.code === 'bad-shape')) return new InvalidArgumentError(err.message);
  // Every mask problem (empty, wrong size, values outside [0, 1]) is the user's input.
  if (err instanceof MaskError) return new InvalidArgumentError(err.message);
  return err;
}

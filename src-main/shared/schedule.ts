/**
 * The DDIM timestep schedule as the renderer needs it (timestep picker, snapping): the engine's own pure functions,
 * re-exported so the page snaps a fraction of T to exactly the timestep a job given `t` would use, with no second copy.
 */
export { ddimTimestepsAscending } from '../core/diffusion/ddim';
export { snapToSchedule } from '../core/diffusion/inversion';

export * from './errors';
export { guidanceEdit, plainMove, editLatent, GUIDANCE_DEFAULTS } from './guidance';
export type { EditDirection, Composition, GuidanceOptions, EditMode, EditOptions } from './guidance';
export { renderFrom, renderPath, editAndRender, ddimStepper, CLEAN_TIMESTEP } from './render';
export type { DdimStepper, RenderOptions, RenderStep } from './render';

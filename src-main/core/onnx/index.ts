/** ONNX graph transformer: exact J·V, Jᵀ·U and Jᵀ·J·V graphs for a U-Net's x → h map. */
export * from './derive';
export * from './errors';
export { IO, type GraphKind } from './emit';
export type { HCandidate } from './hselect';
export { readModel, writeModel } from './proto';
export { externalizeWeights } from './external';

/**
 * ONNX graph transformer: exact J·V, Jᵀ·U and Jᵀ·J·V graphs for a U-Net's map x (`sample`) → h
 * (mid-block output), in standard ONNX ops, for onnxruntime to run.
 *
 * Engine usage (the core never touches ORT):
 *
 *   const d = await deriveGraphs(unetPath, { h: 'auto', tangents: K, height, width, seq });
 *   const session = await InferenceSession.create(d.pullback, {
 *     ...sessionOptions,
 *     // weights stored as external data stay in the model folder and are resolved from here
 *     ...externalDataSessionOptions(path.dirname(unetPath)),
 *   });
 *   // feeds: the model's own inputs at batch 1 (sample [1,C,H,W], timestep, encoder_hidden_states…)
 *   //        + `tangent` [K, ...d.info.tangentShape.slice(1)]   (jvp, pullback)
 *   //        or `cotangent` [K, ...d.info.cotangentShape.slice(1)] (vjp)
 *   // outputs: `h` [1, ...], `h_dot` [K, ...] = J·tangent, `x_bar` [K, ...] = Jᵀ·cotangent or Jᵀ·J·tangent
 *
 * Every dimension is static (K included): derive once per (K, H, W, seq). `buildForwardGraph` gives
 * the plain inputs → `h` graph; `listHCandidates` the block outputs a user may pick as h.
 */
export * from './derive';
export * from './errors';
export { IO, type GraphKind } from './emit';
export type { HCandidate } from './hselect';
export { readModel, writeModel } from './proto';
export { externalizeWeights } from './external';

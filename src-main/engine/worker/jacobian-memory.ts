/**
 * How many tangent columns one derived-graph call may carry without exhausting the machine's memory. A column of J·v
 * or Jᵀu holds a tangent of every active tensor at once, and the largest one dominates: for an SD-1.5-shaped U-Net at
 * 64×64 latents the first down block's attention scores, [8 heads, 4096, 4096] = 134 M elements per column. Measured
 * there (`npm run bench -- text`, CPU, 24 GB machine): J·V peaked at 8.7 GB with 1 column and 12.3 GB with 2 (≈ 26 bytes
 * per element of that tensor for each extra column), and 8 columns, the default, were killed for memory at 22.9 GB.
 * Small models (the bundled 64×64 one: a few hundred kB per column) keep the default.
 */

/** Peak bytes a column adds, per element of the largest active tensor (26 measured, rounded up for headroom). */
export const BYTES_PER_LARGEST_ELEMENT = 32;
/** Share of the machine's memory the Jacobian calls may plan for (the editor, the U-Net session and the OS need the rest). */
export const MEMORY_SHARE = 0.6;

/**
 * The largest K ≤ `requested` whose columns fit: room = MEMORY_SHARE of `totalBytes`, less 1.5 × the weights (the
 * graph session's copy and the forward's), each column costing BYTES_PER_LARGEST_ELEMENT × `largestPerColumn`. Never
 * below 1: one column is the least a call can do (a model too large for that fails in ORT with its own error).
 */
export function memoryFitK(requested: number, largestPerColumn: number, weightBytes: number, totalBytes: number): number {
  const room = totalBytes * MEMORY_SHARE - 1.5 * weightBytes;
  const perColumn = Math.max(1, largestPerColumn) * BYTES_PER_LARGEST_ELEMENT;
  return Math.max(1, Math.min(requested, Math.floor(room / perColumn)));
}

/**
 * Typed errors of the ONNX graph transformer. Every failure that can reach a user carries a `code`
 * literal so the renderer/CLI can map it to a message; the text names the op/node/tensor involved.
 */
export type OnnxDeriveErrorCode =
  | 'bad-onnx'
  | 'unsupported-opset'
  | 'contrib-op'
  | 'unsupported-op'
  | 'unsupported-attr'
  | 'unsupported-dtype'
  | 'active-nondiff-input'
  | 'shape-inference'
  | 'unknown-shape'
  | 'h-not-found'
  | 'input-not-found'
  | 'bad-option';

export class OnnxDeriveError extends Error {
  override readonly name = 'OnnxDeriveError';
  constructor(
    readonly code: OnnxDeriveErrorCode,
    message: string,
    readonly detail: { op?: string; node?: string; tensor?: string } = {},
  ) {
    super(message);
  }
}

/** An op on the active path (x → h) that has no differentiation rule. */
export class UnsupportedOpError extends OnnxDeriveError {
  constructor(op: string, node: string, why = 'has no differentiation rule') {
    super('unsupported-op', `op ${op} (node "${node}") on the path from x to h ${why}`, { op, node });
  }
}

/** Graphs with com.microsoft (ORT-optimised) fused ops: there are no standard-op rules for them. */
export class ContribOpError extends OnnxDeriveError {
  constructor(op: string, domain: string, node: string) {
    super(
      'contrib-op',
      `node "${node}" uses ${domain}::${op}; ORT-optimised models with fused contrib ops cannot be differentiated — ` +
        'export the model without the onnxruntime transformer optimizer (plain torch.onnx / Optimum export)',
      { op, node },
    );
  }
}

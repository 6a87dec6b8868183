export * from './errors';
export * from './scheduler';
export * from './rng';
export * from './ddim';
export * from './generate';
export * from './image';
export * from './model-folder';
export * from './onnx-signature';

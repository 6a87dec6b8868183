/**
 * Geometry analyses (method.md §6): spectra, frequency content and tangent-space similarity over samples ×
 * timesteps. Everything here is DOM- and Node-free except write-outputs.ts, which is deliberately not
 * re-exported so the renderer can import this index.
 */
export * from './frequency';
export * from './similarity';
export * from './prompts';
export * from './correlation';
export * from './result';
export * from './accumulator';
export * from './summary';
export * from './csv';
export * from './plots';
export * from './report';
export * from './outputs';

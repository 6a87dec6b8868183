export * from './api';
export * from './errors';
export * from './frame';
export * from './client';

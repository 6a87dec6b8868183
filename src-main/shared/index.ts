export * from './api';
export * from './errors';
export * from './frame';
export * from './client';
export * from './ws';
export * from './ws-client';
export * from './ipc';
export * from './ipc-client';

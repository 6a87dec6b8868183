export * from './tensor';
export * from './npy';

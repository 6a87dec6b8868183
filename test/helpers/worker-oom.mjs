// A stand-in engine worker that runs out of heap on its first job: the host must report worker-died, not hang.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (m) => {
  if (m.type !== 'run') return;
  const hog = [];
  for (;;) hog.push(new Array(1e6).fill(Math.random()));
});
parentPort.postMessage({ type: 'ready', providers: ['cpu'] });

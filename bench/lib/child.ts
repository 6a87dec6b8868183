/**
 * A benchmark's measurement in a child process of its own (`npm run bench -- <bench> --child …`), so that each row's
 * peak RSS, session state and JIT are its own: resolves with the one message the child sends, rejects when it exits
 * without one (a crash, or the kernel's out-of-memory kill).
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './model';

export function runBenchChild<R>(bench: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const child = fork(path.join(ROOT, 'bench/index.ts'), [bench, '--child', ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(env ? { env } : {}),
    });
    let got: R | undefined;
    child.on('message', (msg) => (got = msg as R));
    child.on('exit', (code, signal) =>
      got !== undefined
        ? resolve(got)
        : reject(new Error(`${bench} benchmark child (${args.join(' ')}) exited with ${signal ?? code}${signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}`)),
    );
  });
}

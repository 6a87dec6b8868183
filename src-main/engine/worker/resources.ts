/**
 * Everything that holds ORT sessions, owned by one object per process: the open model's U-Net session
 * (ModelCache) and the derived Jacobian graphs' sessions (JacobianSessions). The engine worker keeps one for its
 * life; the CLI and the bench make one per job (run-in-process.ts) and release it afterwards. Jobs reach both only
 * through the JobContext this builds.
 */
import type { JobContext } from '../jobs/types';
import type { ProgressFn } from '../../core/progress';
import { ModelCache } from './model-cache';
import { JacobianSessions } from './jacobian-operator';

export class EngineResources {
  readonly models = new ModelCache();
  readonly jacobians = new JacobianSessions();

  jobContext(signal: AbortSignal, onProgress: ProgressFn): JobContext {
    return {
      signal,
      onProgress,
      loadModel: (dir, pref) => this.models.load(dir, pref),
      inspectModel: (dir) => this.models.inspect(dir),
      jacobians: this.jacobians,
    };
  }

  /** A job of the worker ended: sessions only it still held (another model, other graphs) are released. */
  async jobEnded(jobId: string): Promise<void> {
    await this.models.jobEnded(jobId);
    await this.jacobians.jobEnded(jobId);
  }

  async release(): Promise<void> {
    await this.models.release();
    await this.jacobians.release();
  }
}

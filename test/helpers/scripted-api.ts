/**
 * A PullbackApi whose job events the test sends itself (`send`), for state classes that follow a job's events
 * (JobsState, AnalysisState): `startJob` records what it was given and answers ids j0, j1, … in order; `cancelJob`
 * records the ids it was sent.
 */
import type { JobEvent, JobName, PullbackApi, StartJobOptions } from '../../src-main/shared/api';

export class ScriptedApi implements PullbackApi {
  readonly started: { name: JobName; input: unknown; options?: StartJobOptions }[] = [];
  private readonly listeners = new Set<(e: JobEvent) => void>();
  async getAppInfo(): Promise<never> {
    throw new Error('not used');
  }
  async pickModelFolder() {
    return null;
  }
  async startJob(name: JobName, input: unknown, options?: StartJobOptions) {
    this.started.push({ name, input, ...(options ? { options } : {}) });
    return { jobId: `j${this.started.length - 1}` };
  }
  /** The job ids Cancel was sent for, in order. */
  readonly cancelled: string[] = [];
  async cancelJob(jobId: string) {
    this.cancelled.push(jobId);
  }
  async project(): Promise<unknown> {
    return null;
  }
  onJobEvent(l: (e: JobEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  send(e: JobEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

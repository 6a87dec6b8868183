/**
 * The worker's session caches (the open model, the derived Jacobian graphs) keep one entry across jobs, because
 * sessions are large. Several jobs now run at once in the worker (a preview while an analysis is paused), and they
 * may use different entries: an entry a running job has used is pinned by that job and released only when no
 * running job pins it and it is not the latest. Concurrent requests for one key share one creation.
 */
interface Entry<V> {
  value: Promise<V>;
  /** Ids of the running jobs that use it. */
  pins: Set<string>;
}

export class PinnedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private latest: string | null = null;

  constructor(private readonly dispose: (v: V) => Promise<void>) {}

  /**
   * The entry of `key`, created with `create` when absent; `pin` (the running job's id; none outside jobs) keeps it
   * until unpin(pin). Older unpinned entries are released before a new one is created, so with nothing pinned the
   * peak is one entry, as before.
   */
  async get(key: string, create: () => Promise<V>, pin?: string): Promise<V> {
    this.latest = key;
    let entry = this.entries.get(key);
    if (!entry) {
      const evicted = this.evictUnused();
      const created: Entry<V> = { value: evicted.then(create), pins: new Set() };
      entry = created;
      this.entries.set(key, created);
      created.value.catch(() => {
        // A failed creation is not cached: the next request tries again.
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    } else void this.evictUnused();
    if (pin !== undefined) entry.pins.add(pin);
    return entry.value;
  }

  /** The job `pin` ended: release what nobody else holds. */
  async unpin(pin: string): Promise<void> {
    for (const e of this.entries.values()) e.pins.delete(pin);
    await this.evictUnused();
  }

  /** Release everything (the CLI after its one job, the worker on shutdown). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.latest = null;
    await Promise.all(all.map((e) => this.release(e)));
  }

  /** How many entries are held (tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Chooses synchronously (so an entry inserted right after is never included), releases asynchronously. */
  private evictUnused(): Promise<void> {
    const gone: Entry<V>[] = [];
    for (const [k, e] of this.entries) {
      if (k === this.latest || e.pins.size > 0) continue;
      this.entries.delete(k);
      gone.push(e);
    }
    return Promise.all(gone.map((e) => this.release(e))).then(() => undefined);
  }

  private async release(e: Entry<V>): Promise<void> {
    try {
      await this.dispose(await e.value);
    } catch {
      // creation failed (nothing to release) or the release itself failed: nothing more to do
    }
  }
}

/**
 * How many intra-op threads an ORT session gets.
 *
 * ORT's default (0) means "one per physical core", found by its own CPU detection. On some machines that detection
 * comes out too low: on a 2-core AMD EPYC VM (no SMT) ORT ran the bundled U-Net on one thread, 70 ms per forward,
 * against 41 ms with 2 threads (`npm run bench -- unet` prints both). So the engine counts the physical cores itself
 * where the OS tells it (Linux sysfs topology: one (package, core) pair per physical core, SMT siblings share one)
 * and passes that count. One compute lane runs one ORT call at a time (compute-lane.ts), so each call may use
 * every core. More threads than cores is much worse than fewer (3 threads on 2 cores: 98 ms), so logical CPUs
 * (hyperthreads) are never counted twice.
 *
 * Elsewhere (macOS, Windows, a Linux without sysfs) ORT's own count stands. PULLBACK_ORT_THREADS overrides both.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

/** Reads a small sysfs file; undefined when it is missing or unreadable. */
export type ReadText = (file: string) => string | undefined;

const readSysfs: ReadText = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * Physical cores among the first `logicalCpus` CPUs, from /sys/devices/system/cpu/cpuN/topology; undefined when any
 * CPU's topology cannot be read (not Linux, or a container that hides sysfs).
 */
export function physicalCoreCount(logicalCpus: number, read: ReadText = readSysfs): number | undefined {
  if (!(logicalCpus >= 1)) return undefined;
  const cores = new Set<string>();
  for (let cpu = 0; cpu < logicalCpus; cpu++) {
    const dir = `/sys/devices/system/cpu/cpu${cpu}/topology`;
    const pkg = read(`${dir}/physical_package_id`)?.trim();
    const core = read(`${dir}/core_id`)?.trim();
    if (!pkg || !core) return undefined;
    cores.add(`${pkg}:${core}`);
  }
  return cores.size;
}

export interface ThreadEnvironment {
  /** PULLBACK_ORT_THREADS. */
  override?: string;
  /** Logical CPUs of the machine (os.cpus().length). */
  logicalCpus: number;
  /** CPUs this process may run on (os.availableParallelism(): the affinity mask). */
  allowedCpus: number;
  read?: ReadText;
}

/**
 * The intra-op thread count to pass to ORT, or undefined to keep ORT's default: the override when it is a positive
 * integer, else the physical core count capped by the CPUs this process may use.
 */
export function intraOpThreads(env: ThreadEnvironment = currentEnvironment()): number | undefined {
  const override = Number(env.override);
  if (env.override !== undefined && env.override !== '' && Number.isInteger(override) && override >= 1) return override;
  const physical = physicalCoreCount(env.logicalCpus, env.read);
  return physical === undefined ? undefined : Math.max(1, Math.min(physical, env.allowedCpus));
}

function currentEnvironment(): ThreadEnvironment {
  return { override: process.env.PULLBACK_ORT_THREADS, logicalCpus: cpus().length, allowedCpus: availableParallelism() };
}

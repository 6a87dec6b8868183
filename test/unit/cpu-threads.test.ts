import { describe, expect, it } from 'vitest';
import { intraOpThreads, physicalCoreCount, type ReadText } from '../../src-main/engine/worker/cpu-threads';

/** A fake sysfs: cpu i → [package, core]. */
function topology(cpus: [number, number][]): ReadText {
  return (file) => {
    const m = /cpu(\d+)\/topology\/(physical_package_id|core_id)$/.exec(file);
    if (!m) return undefined;
    const entry = cpus[Number(m[1])];
    if (!entry) return undefined;
    return `${m[2] === 'physical_package_id' ? entry[0] : entry[1]}\n`;
  };
}

describe('physicalCoreCount', () => {
  it('counts one core per (package, core) pair: SMT siblings once, the same core id on two packages twice', () => {
    // 2 cores without SMT (the CI VM that ORT's own detection reads as one core).
    expect(physicalCoreCount(2, topology([[0, 0], [0, 1]]))).toBe(2);
    // 4 cores × 2 hyperthreads, siblings listed as cpu i and cpu i + 4 (Linux's usual numbering).
    const smt = [0, 1, 2, 3, 0, 1, 2, 3].map((c) => [0, c] as [number, number]);
    expect(physicalCoreCount(8, topology(smt))).toBe(4);
    // Two sockets whose cores reuse the same core ids.
    expect(physicalCoreCount(4, topology([[0, 0], [0, 1], [1, 0], [1, 1]]))).toBe(4);
  });

  it('gives up when any CPU hides its topology, or there is no CPU', () => {
    expect(physicalCoreCount(3, topology([[0, 0], [0, 1]]))).toBeUndefined();
    expect(physicalCoreCount(2, () => undefined)).toBeUndefined();
    expect(physicalCoreCount(2, () => '  \n')).toBeUndefined();
    expect(physicalCoreCount(0, topology([]))).toBeUndefined();
  });
});

describe('intraOpThreads', () => {
  const twoCores = topology([[0, 0], [0, 1]]);

  it('is the physical core count, capped by the CPUs the process may use', () => {
    expect(intraOpThreads({ logicalCpus: 2, allowedCpus: 2, read: twoCores })).toBe(2);
    expect(intraOpThreads({ logicalCpus: 2, allowedCpus: 1, read: twoCores })).toBe(1);
    const smt = [0, 1, 0, 1].map((c) => [0, c] as [number, number]);
    expect(intraOpThreads({ logicalCpus: 4, allowedCpus: 4, read: topology(smt) })).toBe(2);
  });

  it("keeps ORT's default where the topology is unknown", () => {
    expect(intraOpThreads({ logicalCpus: 8, allowedCpus: 8, read: () => undefined })).toBeUndefined();
  });

  it('takes a positive integer override and ignores any other', () => {
    expect(intraOpThreads({ override: '3', logicalCpus: 2, allowedCpus: 2, read: twoCores })).toBe(3);
    for (const bad of ['', '0', '-1', '1.5', 'many']) {
      expect(intraOpThreads({ override: bad, logicalCpus: 2, allowedCpus: 2, read: twoCores })).toBe(2);
    }
  });
});

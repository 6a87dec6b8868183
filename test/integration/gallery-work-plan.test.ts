/**
 * The gallery job's ETA plan (issue 16: the directions job's ETA jumped around): once its basis is there it declares
 * the preview work ahead (work-meter.ts), and that plan is exact — the model calls it then makes are the ones it
 * declared, per unit, for a rendered centre and for a given canvas picture, in guidance and move mode. During the
 * basis it declares nothing (the fraction rule).
 */
import { describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import type { Progress, WorkReport } from '../../src-main/core/progress';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('gallery-work-plan');
const base = { modelDir: defaultModelDir(), seed: 4, t: 0.6, steps: 20, k: 2, previewSteps: 5, guidanceSteps: 3, provider: 'cpu' as const };

async function reports(input: Parameters<typeof runJobInProcess<'gallery'>>[1]): Promise<{ first: WorkReport; last: WorkReport; beforePlan: number }> {
  const work: WorkReport[] = [];
  let beforePlan = 0;
  await runJobInProcess('gallery', input, {
    quiet: true,
    onProgress: (p: Progress) => {
      if (p.work) work.push(p.work);
      else if (work.length === 0) beforePlan++;
    },
  });
  return { first: work[0], last: work[work.length - 1], beforePlan };
}

describe('gallery: the declared preview plan is the work done', () => {
  it.each([
    ['guidance, rendered centre', {}],
    ['move mode', { mode: 'move' as const }],
  ])('%s', async (_name, extra) => {
    const { first, last, beforePlan } = await reports({ ...base, ...extra });
    // The basis's progress (and x_t's path) came without a plan.
    expect(beforePlan).toBeGreaterThan(0);
    for (const unit of new Set([...Object.keys(first.remaining), ...Object.keys(last.done)])) {
      const declared = first.remaining[unit] ?? 0;
      const doneSince = (last.done[unit] ?? 0) - (first.done[unit] ?? 0);
      expect(doneSince, unit).toBe(declared);
      expect(last.remaining[unit] ?? 0, unit).toBe(0);
    }
  }, 600_000);

  it('a given canvas picture: no canvas render in the plan, and none done', async () => {
    // Seed 6: the earlier cases' previews of seed 4 are cached now (a repeat renders nothing, so it plans nothing).
    const canvas = (await runJobInProcess('generate', { modelDir: base.modelDir, seed: 6, steps: 20, provider: 'cpu' }, { quiet: true })).images[0].bytes;
    const rendered = await reports({ ...base, seed: 6 });
    const given = await reports({ ...base, seed: 6, centerImage: canvas });
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    // The canvas render is x_t's remaining path at η = 0: the difference between the two plans.
    expect(sum(rendered.first.remaining) - sum(given.first.remaining)).toBeGreaterThan(0);
    expect(sum(given.last.done) - sum(given.first.done)).toBe(sum(given.first.remaining));
  }, 600_000);
});

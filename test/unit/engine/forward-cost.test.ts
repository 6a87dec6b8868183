/** The forward cost the host reports with model.info (the editor's basis estimate multiplies it). */
import { describe, expect, it } from 'vitest';
import { costScope, forwardCost, JobEta, UnitCostBook } from '../../../src-main/engine/host/eta';

describe('forwardCost', () => {
  it('is absent before any U-Net call was measured, then the mean per sample over the window', () => {
    const book = new UnitCostBook(4);
    const scope = costScope({ modelDir: '/m', provider: 'auto' });
    expect(forwardCost(book, scope)).toBeUndefined();
    const eta = new JobEta(book, scope);
    // A job reporting its work: 2 units in 600 ms, then 3 in 1200 ms (mean 1800 / 5 = 360 ms a unit).
    eta.observe(0, 0, { done: { unet: 0 }, remaining: { unet: 5 } });
    eta.observe(600, 0.4, { done: { unet: 2 }, remaining: { unet: 3 } });
    eta.observe(1800, 1, { done: { unet: 5 }, remaining: { unet: 0 } });
    expect(forwardCost(book, scope)).toEqual({ msPerForward: 360, forwards: 5 });
    // Another preference of the same model measured nothing.
    expect(forwardCost(book, costScope({ modelDir: '/m', provider: 'cpu' }))).toBeUndefined();
  });

  it('takes a guided step as two U-Net evaluations when only guided steps were measured', () => {
    const book = new UnitCostBook();
    book.add('/sd|auto', 'unet-cfg', { ms: 3000, units: 2 });
    expect(forwardCost(book, '/sd|auto')).toEqual({ msPerForward: 750, forwards: 4 });
    book.add('/sd|auto', 'unet', { ms: 700, units: 1 });
    expect(forwardCost(book, '/sd|auto')).toEqual({ msPerForward: 700, forwards: 1 });
  });

  it('ignores a zero-time measurement (it would claim free forwards)', () => {
    const book = new UnitCostBook();
    book.add('/m|auto', 'unet', { ms: 0, units: 3 });
    expect(forwardCost(book, '/m|auto')).toBeUndefined();
  });
});

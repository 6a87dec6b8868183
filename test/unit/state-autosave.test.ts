/**
 * Autosave's timing on fake timers: a save once changes pause, at most maxWaitMs after the first unsaved change, on
 * blur and when the page is hidden; none before start or after stop; saves one at a time; held during a pause, with
 * a save that came due running right after it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Autosave } from '../../src-renderer/src/lib/state/autosave';

const timing = { quietMs: 2_000, maxWaitMs: 60_000 };

class FakeDocument extends EventTarget {
  visibilityState = 'visible';
}

function setup() {
  let saves = 0;
  const save = vi.fn(async () => {
    saves += 1;
  });
  const autosave = new Autosave(save, timing);
  const page = { window: new EventTarget(), document: new FakeDocument() };
  autosave.start(page);
  return { autosave, page, save, saves: () => saves };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Autosave', () => {
  it('saves once changes have paused for quietMs (one save for a burst)', async () => {
    const { autosave, save } = setup();
    for (let i = 0; i < 5; i++) {
      autosave.touch();
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_499);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(save).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(save).toHaveBeenCalledTimes(1);
  });

  it('saves no later than maxWaitMs after the first unsaved change while changes keep coming', async () => {
    const { autosave, save } = setup();
    for (let t = 0; t < 59_000; t += 1_000) {
      autosave.touch();
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(save).not.toHaveBeenCalled();
    autosave.touch();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(save).toHaveBeenCalledTimes(1);
  });

  it('saves on blur and when the page is hidden (not when it becomes visible)', async () => {
    const { page, save } = setup();
    page.window.dispatchEvent(new Event('blur'));
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledTimes(1);
    page.document.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledTimes(1);
    page.document.visibilityState = 'hidden';
    page.document.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledTimes(2);
  });

  it('a flush replaces the scheduled save', async () => {
    const { autosave, save } = setup();
    autosave.touch();
    await autosave.flush();
    expect(save).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(save).toHaveBeenCalledTimes(1);
  });

  it('schedules nothing before start or after stop; flush still saves', async () => {
    const save = vi.fn(async () => undefined);
    const autosave = new Autosave(save, timing);
    autosave.touch();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(save).not.toHaveBeenCalled();
    const page = { window: new EventTarget(), document: new FakeDocument() };
    autosave.start(page);
    autosave.touch();
    autosave.stop();
    page.window.dispatchEvent(new Event('blur'));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(save).not.toHaveBeenCalled();
    await autosave.flush();
    expect(save).toHaveBeenCalledTimes(1);
  });

  it('runs saves one at a time', async () => {
    let running = 0;
    let most = 0;
    const autosave = new Autosave(async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 100));
      running -= 1;
    }, timing);
    const all = Promise.all([autosave.flush(), autosave.flush(), autosave.flush()]);
    await vi.advanceTimersByTimeAsync(300);
    await all;
    expect(most).toBe(1);
  });

  it('a pause waits for the save in flight, holds saves during its work and runs a due one after it', async () => {
    const log: string[] = [];
    const autosave = new Autosave(async () => {
      log.push('save start');
      await new Promise((r) => setTimeout(r, 100));
      log.push('save end');
    }, timing);
    const page = { window: new EventTarget(), document: new FakeDocument() };
    autosave.start(page);
    void autosave.flush();
    let flushedDuringPause: Promise<void> | undefined;
    const paused = autosave.pausedDuring(async () => {
      log.push('work start');
      flushedDuringPause = autosave.flush();
      page.window.dispatchEvent(new Event('blur'));
      autosave.touch();
      await new Promise((r) => setTimeout(r, 5_000));
      log.push('work end');
      return 7;
    });
    await vi.advanceTimersByTimeAsync(5_100);
    expect(await paused).toBe(7);
    await vi.advanceTimersByTimeAsync(100);
    await flushedDuringPause;
    expect(log).toEqual(['save start', 'save end', 'work start', 'work end', 'save start', 'save end']);
  });

  it('nested pauses hold saves until the outer one ends', async () => {
    const save = vi.fn(async () => undefined);
    const autosave = new Autosave(save, timing);
    await autosave.pausedDuring(async () => {
      await autosave.pausedDuring(async () => void autosave.flush());
      expect(save).not.toHaveBeenCalled();
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledTimes(1);
  });
});

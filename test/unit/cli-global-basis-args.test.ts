/** `pullback global-basis --seeds` parsing and `--mask` argument errors (the commands' own tests run the CLI). */
import { describe, expect, it } from 'vitest';
import { parseSeeds } from '../../src-main/cli/commands/global-basis';
import { maskArgs } from '../../src-main/cli/mask-args';
import { UsageError } from '../../src-main/cli/types';

describe('global-basis --seeds', () => {
  it('takes lists and ascending ranges', () => {
    expect(parseSeeds('0,1,2')).toEqual([0, 1, 2]);
    expect(parseSeeds('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseSeeds('5, 1-2 ,9')).toEqual([5, 1, 2, 9]);
  });
  it('refuses empty lists, descending or huge ranges and non-integers', () => {
    for (const bad of ['', ',', '3-1', '0-300', 'a', '1.5', '-2']) expect(() => parseSeeds(bad), bad).toThrow(UsageError);
  });
});

describe('--mask / --mask-invert', () => {
  it('no --mask: undefined; --mask-invert alone or an unreadable file: usage errors', async () => {
    expect(await maskArgs({})).toBeUndefined();
    await expect(maskArgs({ 'mask-invert': true })).rejects.toThrow('--mask-invert needs --mask FILE');
    await expect(maskArgs({ mask: '/nonexistent/mask.png' })).rejects.toThrow(UsageError);
    await expect(maskArgs({ mask: '/nonexistent/mask.npy' })).rejects.toThrow(UsageError);
  });
});

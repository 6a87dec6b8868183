/** Every API error code has a user-facing message, and nothing but the engine's one-line detail reaches the UI. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ApiError } from '../../src-main/shared/errors';
import { describeCode, toShownError } from '../../src-renderer/src/lib/errors';

describe('error messages', () => {
  it('maps every code to a sentence', () => {
    for (const code of ERROR_CODES) {
      const m = describeCode(code);
      expect(m, code).toMatch(/^[A-Z].*\.$/);
      expect(m).not.toMatch(/undefined|Error:/);
    }
  });

  it('shows typed errors by code and anything else as internal, without a stack', () => {
    const typed = toShownError(new ApiError({ code: 'project-missing-model', message: 'this project needs the model “avatars64”' }));
    expect(typed).toEqual({ code: 'project-missing-model', title: describeCode('project-missing-model'), detail: 'this project needs the model “avatars64”' });
    const raw = toShownError(new TypeError('x is undefined'));
    expect(raw.code).toBe('internal');
    expect(JSON.stringify(raw)).not.toMatch(/at .*:\d+:\d+/);
  });
});

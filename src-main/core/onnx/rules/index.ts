/** The rule registry: op type → differentiation rule. */
import { elementwiseRules } from './elementwise';
import { linearRules } from './linear';
import { normRules } from './norm';
import { resizeRules } from './resize';
import { shapeRules } from './shape';
import type { Rule } from './types';

export const RULES: Readonly<Record<string, Rule>> = {
  ...elementwiseRules,
  ...linearRules,
  ...normRules,
  ...shapeRules,
  ...resizeRules,
};

export type { Rule, RuleCtx } from './types';

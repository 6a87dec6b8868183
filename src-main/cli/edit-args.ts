/**
 * Options of the commands that edit (gallery, strip): the guidance/move parameters and the basis parameters. An
 * option that is not given stays out of the job input, so the job schema's default applies: the defaults live once,
 * in shared/edit-defaults.ts, for the CLI and the editor alike.
 */
import { int, num } from './pullback-args';
import { UsageError } from './types';

export const EDIT_PARAM_OPTIONS = {
  mode: { type: 'string' },
  'guidance-steps': { type: 'string' },
  scale: { type: 'string' },
  delta: { type: 'string' },
  alpha: { type: 'string' },
  'noise-seed': { type: 'string' },
  boost: { type: 'string' },
} as const;

export const BASIS_PARAM_OPTIONS = {
  k: { type: 'string' },
  method: { type: 'string' },
  tol: { type: 'string' },
  'basis-seed': { type: 'string' },
  h: { type: 'string' },
} as const;

type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** Drops undefined fields: `exactOptionalPropertyTypes`-safe and keeps "not given" distinct from a value. */
function defined<T extends object>(o: T): Partial<Defined<T>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<Defined<T>>;
}

/** --mode, --guidance-steps, --scale, --delta, --alpha, --noise-seed, --boost F|none → the job's edit params. */
export function editParamArgs(values: {
  mode?: string;
  'guidance-steps'?: string;
  scale?: string;
  delta?: string;
  alpha?: string;
  'noise-seed'?: string;
  boost?: string;
}) {
  if (values.mode !== undefined && values.mode !== 'guidance' && values.mode !== 'move') throw new UsageError(`--mode must be guidance or move, got "${values.mode}"`);
  const boost = values.boost === undefined ? undefined : values.boost === 'none' ? null : num('boost', values.boost);
  return defined({
    mode: values.mode as 'guidance' | 'move' | undefined,
    guidanceSteps: int('guidance-steps', values['guidance-steps']),
    scale: num('scale', values.scale),
    delta: num('delta', values.delta),
    alpha: num('alpha', values.alpha),
    noiseSeed: int('noise-seed', values['noise-seed']),
    boostFraction: boost,
  });
}

/** --k, --method krylov|subspace, --tol, --basis-seed, --h → the job's basis params. */
export function basisParamArgs(values: { k?: string; method?: string; tol?: string; 'basis-seed'?: string; h?: string }) {
  if (values.method !== undefined && values.method !== 'krylov' && values.method !== 'subspace') {
    throw new UsageError(`--method must be krylov or subspace, got "${values.method}"`);
  }
  return defined({
    k: int('k', values.k),
    method: values.method as 'krylov' | 'subspace' | undefined,
    tol: num('tol', values.tol),
    basisSeed: int('basis-seed', values['basis-seed']),
    h: values.h,
  });
}

/**
 * node's parseArgs reads `--strength -2` as two options; join a negative number to the flag before it
 * (`--strength=-2`), as `pullback edit` does.
 */
export function joinNegativeNumbers(rawArgs: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    const next = rawArgs[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  return args;
}

/** --provider as the job field (the job's schema checks the value). */
export function providerArg(provider: string | undefined): { provider?: 'auto' } {
  return provider ? { provider: provider as 'auto' } : {};
}

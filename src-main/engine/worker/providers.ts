/**
 * Execution-provider choice. CPU always works; GPU providers are offered only where the platform and ORT's
 * listSupportedBackends() say they may, and session creation falls back down the list to CPU. The provider that
 * actually created the session is reported to the user.
 */
import type { Provider, ProviderPreference } from '../../shared/api';

/** ORT's name for each provider in `executionProviders`. */
const ORT_NAME: Record<Provider, string> = { cpu: 'cpu', cuda: 'cuda', webgpu: 'webgpu', dml: 'dml', coreml: 'coreml' };

/** GPU providers worth trying per platform, best first (transformers.js uses the same table). */
export function platformProviders(platform: NodeJS.Platform, arch: string): Provider[] {
  if (platform === 'win32') return ['dml', 'webgpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu'];
  if (platform === 'linux' && arch === 'x64') return ['cuda', 'webgpu'];
  return ['webgpu'];
}

/** Providers usable here: the platform's list filtered by what this ORT build says it supports, then CPU. */
export function availableProviders(platform: NodeJS.Platform, arch: string, supported: readonly { name: string }[]): Provider[] {
  const names = new Set(supported.map((b) => b.name));
  return [...platformProviders(platform, arch).filter((p) => names.has(ORT_NAME[p])), 'cpu'];
}

/** Where Linux looks for shared libraries besides LD_LIBRARY_PATH (Debian/Ubuntu multiarch, Fedora, generic). */
export const LINUX_LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib64'];

/**
 * Why `provider` cannot work here before anything is loaded, or null when it may: on Linux, ORT's WebGPU provider is
 * Dawn on Vulkan, and Dawn without the Vulkan loader (libvulkan.so.1) prints a native warning to stderr each time it
 * starts, which no ORT log level silences. So a machine without the loader skips the WebGPU probe quietly.
 */
export function missingPrerequisite(
  provider: Provider,
  platform: NodeJS.Platform,
  exists: (path: string) => boolean,
  libraryDirs: readonly string[] = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LINUX_LIBRARY_DIRS],
): string | null {
  if (provider === 'webgpu' && platform === 'linux' && !libraryDirs.some((d) => exists(`${d}/libvulkan.so.1`))) {
    return 'WebGPU needs the Vulkan loader (libvulkan.so.1), which is not installed';
  }
  return null;
}

/**
 * The providers of `candidates` that `works` (a real session created and run on this machine, sessions.ts
 * providerWorks), in order; CPU always. The Device menu offers only these, so it never lists CUDA or WebGPU where they
 * cannot load. Probed one at a time: GPU runtimes do not like being initialised concurrently.
 */
export async function usableProviders(candidates: readonly Provider[], works: (ortProvider: string) => Promise<boolean>): Promise<Provider[]> {
  const usable: Provider[] = [];
  for (const p of candidates) {
    if (p === 'cpu') continue;
    if (await works(ORT_NAME[p]).catch(() => false)) usable.push(p);
  }
  return [...usable, 'cpu'];
}

/** The order to try for a preference: 'auto' tries GPUs first, a named provider tries itself then CPU. */
export function providerOrder(pref: ProviderPreference, available: readonly Provider[]): Provider[] {
  if (pref === 'auto') return [...available];
  if (pref === 'cpu' || !available.includes(pref)) return ['cpu'];
  return [pref, 'cpu'];
}

export interface FallbackResult<S> {
  session: S;
  provider: Provider;
  /** Why earlier providers in the order were skipped (absent when the first one worked). */
  fallbackReason?: string;
}

/**
 * A run a GPU session must survive before it is used: GPU providers can create a session and still fail on the first
 * run (missing kernels, driver problems), and that must fall back like a failed creation, not fail the user's job.
 */
export interface FirstRunCheck<S> {
  firstRun: (session: S) => Promise<void>;
  /** Frees a session whose first run failed (its provider is skipped). */
  release: (session: S) => Promise<void>;
}

/** Keep a reason short: ORT messages carry source paths and lambdas that mean nothing to a user. */
function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return msg.length > 160 ? `${msg.slice(0, 157)}...` : msg;
}

/**
 * Create a session with the first provider that works: it is created and, with `check`, survives its first run (CPU
 * is not checked: it is the last resort, and its errors are the model's). Each provider is tried once. Throws the
 * CPU error if even CPU fails.
 */
export async function createWithFallback<S>(
  order: readonly Provider[],
  create: (ortProvider: string) => Promise<S>,
  check?: FirstRunCheck<S>,
): Promise<FallbackResult<S>> {
  const reasons: string[] = [];
  for (const p of order) {
    let stage = 'session creation';
    try {
      const session = await create(ORT_NAME[p]);
      if (check && p !== 'cpu') {
        stage = 'first run';
        try {
          await check.firstRun(session);
        } catch (err) {
          await check.release(session).catch(() => undefined);
          throw err;
        }
      }
      return { session, provider: p, ...(reasons.length ? { fallbackReason: reasons.join('; ') } : {}) };
    } catch (err) {
      if (p === 'cpu') throw err;
      reasons.push(stage === 'first run' ? `${p}: first run failed: ${shortReason(err)}` : `${p}: ${shortReason(err)}`);
    }
  }
  throw new Error('no execution provider to try');
}

/**
 * The order the derived Jacobian graphs try: the provider the forward U-Net runs on first (the user's device choice,
 * already proven on this model), then the rest of the forward's order, CPU last. Each provider once.
 */
export function jacobianProviderOrder(forwardOrder: readonly Provider[], forwardProvider?: Provider): Provider[] {
  const order = [...(forwardProvider ? [forwardProvider] : []), ...forwardOrder].filter((p) => p !== 'cpu');
  return [...new Set(order), 'cpu'];
}

import { createRequire } from 'node:module';

/**
 * `runWithDeadline(fn, ms)`: calls fn on this thread and stops it, wherever it is (guest code
 * included), once `ms` have passed; it then throws an Error with code 'E_DEADLINE'. Calls nest:
 * an inner call never extends an outer one's deadline. `ms` must be finite, 0 to 1e12 (else a
 * RangeError with code 'E_BAD_DEADLINE', and fn is not called). From the small native addon
 * native/deadline.cc (V8's TerminateExecution, as Node's `vm` timeouts, but with one long-lived
 * watchdog thread instead of a new thread per call).
 *
 * Null when the addon is not in use (`deadlineStatus` says why): callers then keep guest code
 * off this thread altogether. A node refuses to start without it unless WARREN_NO_NATIVE=1
 * (src/native/check-native-addons.ts).
 */
export type RunWithDeadline = <T>(fn: () => T, ms: number) => T;

function load(): { run: RunWithDeadline | null; reason: string } {
  if (process.env.WARREN_NO_NATIVE === '1') return { run: null, reason: 'disabled by WARREN_NO_NATIVE=1' };
  try {
    const require = createRequire(import.meta.url);
    // dist/src/runtime → the repository root
    const addon = require('../../../native/build/Release/warren_deadline.node') as { runWithDeadline: RunWithDeadline };
    return { run: addon.runWithDeadline, reason: 'loaded' };
  } catch (err) {
    return { run: null, reason: `failed to load (npm run native builds it): ${(err as Error).message}` };
  }
}

const loaded = load();

export const runWithDeadline: RunWithDeadline | null = loaded.run;

/** Whether the addon is in use, and why not: logged when a node starts. */
export const deadlineStatus: { readonly loaded: boolean; readonly reason: string } = { loaded: loaded.run !== null, reason: loaded.reason };

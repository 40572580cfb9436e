import { createRequire } from 'node:module';

/**
 * `runWithDeadline(fn, ms)`: calls fn on this thread and stops it, wherever it is (guest code
 * included), once `ms` have passed; it then throws an Error with code 'E_DEADLINE'. From the
 * small native addon native/deadline.cc (V8's TerminateExecution, as Node's `vm` timeouts, but
 * with one long-lived watchdog thread instead of a new thread per call).
 *
 * Null when the addon is not built (or WARREN_NO_NATIVE=1): callers then keep guest code off
 * this thread altogether.
 */
export type RunWithDeadline = <T>(fn: () => T, ms: number) => T;

export const runWithDeadline: RunWithDeadline | null = load();

function load(): RunWithDeadline | null {
  if (process.env.WARREN_NO_NATIVE === '1') return null;
  try {
    const require = createRequire(import.meta.url);
    // dist/src/runtime → the repository root
    const addon = require('../../../native/build/Release/warren_deadline.node') as { runWithDeadline: RunWithDeadline };
    return addon.runWithDeadline;
  } catch {
    return null;
  }
}

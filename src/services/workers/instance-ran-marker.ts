import { access, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeContext } from '../node-context.js';
import { workerPaths } from './worker-keys.js';

/**
 * `<worker dir>/instance-ran`: present from just before an instance of the worker starts until
 * its files are known to match its resume point again (a pause, an update). Found when no
 * instance is live, it says the last instance was lost (trap, timeout, SIGKILL of the node)
 * after it may have written to the root: the root's writable files must go back to the point
 * memory comes back from. Absent, the files already are that point (a new worker, a paused one,
 * a fork or failover placed from a snapshot), and nothing needs to be put back. A file, not a
 * registry record: calls write nothing durable to the registry, and it concerns this disk only.
 */
function markerPath(ctx: NodeContext, workerId: string): string {
  return join(workerPaths(ctx, workerId).dir, 'instance-ran');
}

export async function markInstanceRan(ctx: NodeContext, workerId: string): Promise<void> {
  await writeFile(markerPath(ctx, workerId), '');
}

export async function instanceRanSinceReset(ctx: NodeContext, workerId: string): Promise<boolean> {
  try {
    await access(markerPath(ctx, workerId));
    return true;
  } catch {
    return false;
  }
}

export async function clearInstanceRan(ctx: NodeContext, workerId: string): Promise<void> {
  await rm(markerPath(ctx, workerId), { force: true });
}

import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeContext } from '../node-context.js';

type ResumeWorker = (ctx: NodeContext, workerId: string) => Promise<unknown>;

let resolved: Promise<ResumeWorker | null> | null = null;

/**
 * `resumeWorker(ctx, id)` of the snapshots service, when it is part of this build. Snapshots
 * (src/services/snapshots/) are being written alongside the cluster code; until they land a
 * claimed worker restarts fresh from its component's files. Looked up at run time so this file
 * compiles either way; replace with a static import once the module exists.
 */
export function findResumeWorker(): Promise<ResumeWorker | null> {
  resolved ??= (async () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'snapshots');
    for (const file of ['resume-worker.js', 'index.js']) {
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      const mod = (await import(pathToFileURL(path).href)) as { resumeWorker?: unknown };
      if (typeof mod.resumeWorker === 'function') return mod.resumeWorker as ResumeWorker;
    }
    return null;
  })();
  return resolved;
}

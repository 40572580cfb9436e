import { randomBytes } from 'node:crypto';
import { link, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { copyWritableBlob } from '../../fsplace/place-blob-file.js';
import type { ComponentVersionRecord } from '../../records.js';
import { MountTableBuilder, type MountTable } from '../../wasi/index.js';
import type { NodeContext } from '../node-context.js';
import { loadFileTree } from '../workers/load-file-tree.js';
import { readWorkerSettings } from '../workers/read-worker-settings.js';
import { planJobFiles, type JobFilesPlan } from './plan-job-files.js';
import { ensureVersionTree } from '../workers/version-tree.js';

export interface JobFiles {
  mounts: MountTable;
  /** Removes the job's scratch root (its read-write copies and whatever it wrote). */
  dispose: () => Promise<void>;
}

const plans = new Map<string, Promise<JobFilesPlan>>();

function planOf(ctx: NodeContext, version: ComponentVersionRecord): Promise<JobFilesPlan> {
  // By content, not by name: a deleted version may be pushed again with other files.
  const key = `${version.manifestDigest} ${version.fileTree}`;
  let plan = plans.get(key);
  if (!plan) {
    plan = loadFileTree(ctx.ports.blobs, version.fileTree).then((tree) => planJobFiles(tree, readWorkerSettings(version).volumes));
    plans.set(key, plan);
    plan.catch(() => plans.delete(key));
  }
  return plan;
}

const host = (root: string, guestPath: string) => join(root, guestPath.slice(1));

/**
 * The files a job of `version` sees, as a worker would see them at creation: read-only files
 * shared from the version's tree on the node (mounted read-only by directory; a per-job hardlink,
 * listed read-only, only where a directory mixes them with read-write files), read-write files
 * as private copies in a scratch root that is removed when the job ends, an empty scratch dir at
 * each volume's mount. null for a version with no files and no volumes: nothing to prepare.
 */
export async function prepareJobFiles(ctx: NodeContext, version: ComponentVersionRecord): Promise<JobFiles | null> {
  if (!hasJobFiles(version)) return null;
  const plan = await planOf(ctx, version);
  const shared = version.fileTree && plan.readOnly.entries.length > 0 ? await ensureVersionTree(ctx, version.fileTree, plan.readOnly) : null;
  const dir = join(ctx.layout.jobs, `j_${randomBytes(8).toString('hex')}`);
  const root = join(dir, 'root');
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    await mkdir(root, { recursive: true });
    const builder = new MountTableBuilder().mount('/', root, 'rw');
    for (const d of plan.sharedDirs) {
      await mkdir(host(root, d), { recursive: true });
      builder.mount(d, host(shared!, d), 'ro');
    }
    for (const e of plan.linkedFiles) {
      await mkdir(dirname(host(root, e.path)), { recursive: true });
      await link(host(shared!, e.path), host(root, e.path));
      builder.readOnlyFile(e.path);
    }
    for (const e of plan.copiedFiles) {
      await mkdir(dirname(host(root, e.path)), { recursive: true });
      await copyWritableBlob(ctx.ports.blobs, e.digest, host(root, e.path), e.path);
    }
    for (const v of plan.volumes) {
      const vdir = join(dir, 'volumes', v.name);
      await mkdir(vdir, { recursive: true });
      await mkdir(host(root, v.mount), { recursive: true });
      builder.mount(v.mount, vdir, 'rw');
    }
    return { mounts: builder.build(), dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** True when a job of `version` sees files: initial files or a volume. Checked without I/O, so jobs without take no step. */
export function hasJobFiles(version: ComponentVersionRecord): boolean {
  return version.fileTree !== null || readWorkerSettings(version).volumes.length > 0;
}

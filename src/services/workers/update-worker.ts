import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WarrenError } from '../../errors.js';
import { applyUpdate, planUpdate } from '../../fsplace/index.js';
import { SimulatedCrash, type UpdateStep } from '../../fsplace/apply-update.js';
import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from './get-worker.js';
import { storeRootBaseline } from './root-baseline.js';
import { clearInstanceRan } from './instance-ran-marker.js';
import { loadFileTree } from './load-file-tree.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { updateWorkerRecord } from './update-worker-record.js';
import { versionTreeOf } from './version-tree.js';
import { volumeDir, workerPaths } from './worker-keys.js';

export interface UpdateWorkerResult {
  worker: WorkerRecord;
  from: string;
  to: string;
  /** False when the worker already ran that version. */
  changed: boolean;
}

export interface UpdateWorkerOptions {
  /**
   * Tests only: stop (SimulatedCrash, nothing cleaned up) right after this step: applyUpdate's
   * steps, `tree-placed` (the new version's tree is in place, the root untouched) or
   * `files-applied` (the root is swapped, the record not yet written). A test process then
   * SIGKILLs itself, to see recovery bring the worker to exactly one version.
   */
  crashAfter?: UpdateStep | 'tree-placed' | 'files-applied';
}

/**
 * Moves a worker to another version of its component, after the calls queued before it. The
 * worker's own layer follows Golem's rules (fsplace's plan: ro→rw copied in, rw→rw kept,
 * missing→rw created, rw→ro refused with E_UPDATE_CONFLICT and nothing changed; a guest file
 * where the new version has a read-only one is refused too), and the read-only layer is swapped
 * for the new version's shared tree (ro→ro, ro→missing and missing→ro need nothing in the
 * worker's layer), all in one atomic step (applyUpdate's marker; a root placed before overlays
 * becomes an overlay's upper layer here). Files first, then the record; the live instance is
 * stopped and the next call starts the new version. Durable volumes are kept; volumes new in the
 * target are created.
 */
export function updateWorker(ctx: NodeContext, workerId: string, targetVersion: string, opts: UpdateWorkerOptions = {}): Promise<UpdateWorkerResult> {
  const live = ctx.live;
  // Files first, then the record: the root's tag (fsplace) names the version its tree belongs
  // to, so after a crash in between, node recovery moves the record to the tree that is there.
  return live.enqueue(workerId, async () => {
    const record = await getWorker(ctx, workerId);
    if (!['idle', 'running', 'failed'].includes(record.status)) {
      // `running` can only be a stale mark here: the calls queued before this update are done.
      throw new WarrenError('E_WORKER_STATE', `worker ${workerId} is ${record.status}; resume it before updating`, { id: workerId, status: record.status });
    }
    const { blobs, registry } = ctx.ports;
    const from = await getComponentVersion(registry, record.component, record.version);
    const to = await getComponentVersion(registry, record.component, targetVersion);
    if (from.version === to.version) return { worker: record, from: from.version, to: to.version, changed: false };
    const paths = workerPaths(ctx, workerId);
    // Files change here, not through the guest: should the update fail before it stops the
    // instance, the instance's next snapshot must walk every file.
    const inst = live.get(workerId);
    if (inst) inst.touched = null;
    const plan = planUpdate(await loadFileTree(blobs, from.fileTree), await loadFileTree(blobs, to.fileTree));
    // The new version's read-only tree is in place before the switch: the tag committed by
    // applyUpdate is what decides which tree the worker mounts (see worker-layers.ts).
    await versionTreeOf(ctx, to);
    if (opts.crashAfter === 'tree-placed') throw new SimulatedCrash(opts.crashAfter);
    const crashAfter = opts.crashAfter === 'files-applied' ? undefined : opts.crashAfter;
    await applyUpdate({ blobs, root: paths.root, plan, tag: { version: to.version, overlay: true }, crashAfter, onCopyFallback: () => ctx.metrics.placementCopyFallbacks.inc(), logger: ctx.logger });
    for (const v of readWorkerSettings(to).volumes) {
      await mkdir(volumeDir(paths, v.name), { recursive: true });
      await mkdir(join(paths.root, v.mount.slice(1)), { recursive: true }).catch(() => undefined);
    }
    if (opts.crashAfter === 'files-applied') throw new SimulatedCrash(opts.crashAfter);
    await live.stop(workerId);
    ctx.metrics.liveWorkers.set(live.size);
    // The root as the update left it is what the new version goes back to after a lost instance.
    const baseline = await storeRootBaseline(ctx, workerId, to);
    const worker = await updateWorkerRecord(ctx, workerId, (r) => {
      const next: WorkerRecord = { ...r, version: to.version, status: 'idle', baseline };
      delete next.error;
      return next;
    });
    await clearInstanceRan(ctx, workerId);
    ctx.logger.info({ worker: workerId, from: from.version, to: to.version }, 'worker updated');
    return { worker, from: from.version, to: to.version, changed: true };
  });
}

import { WarrenError } from '../../errors.js';
import type { SnapshotRecord, WorkerRecord } from '../../records.js';
import type { RestorePayload } from '../../runtime/worker-protocol.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { callWorkerOp } from './call-worker-op.js';
import type { LiveInstance } from './live-workers.js';
import { prepareWorkerStart, startWorkerInstance } from './start-worker-instance.js';
import { readGuestState } from '../snapshots/guest-state-blob.js';
import { locatePages } from '../snapshots/read-page-map.js';
import { rebaseWasiState } from '../snapshots/rebase-wasi-state.js';
import { restoreWorkerFiles } from '../snapshots/snapshot-files.js';
import { snapshotStore, storeNameOf } from '../snapshots/snapshot-store.js';

/** Restoring copies all of memory into the thread: never cut short by a short call timeout. */
const MIN_RESTORE_TIMEOUT_MS = 60_000;

/**
 * A live instance of a worker from one of its snapshots: the files first (durable dirs; for
 * `full` the whole writable tree), then for `full` a new instance with memory pages, globals
 * and WASI state (fds reopened at their offsets) put back, `_initialize` not run again; for
 * `data` a fresh instance (`_initialize`) over the restored durable dirs. `volumes: false`
 * leaves the durable dirs as they are (a lost instance on this node).
 */
export async function restoreInstance(ctx: NodeContext, record: WorkerRecord, snap: SnapshotRecord, opts: { volumes?: boolean } = {}): Promise<LiveInstance> {
  if (snap.component !== record.component || snap.version !== record.version) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `snapshot ${snap.id} is of ${snap.component}@${snap.version}; worker ${record.id} runs ${record.component}@${record.version}`, {
      snapshot: snap.id,
    });
  }
  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const storeName = storeNameOf(snap.kind);
  const source = snapshotStore(ctx, storeName);
  if (snap.files) await restoreWorkerFiles(ctx, record.id, version, snap.scope, snap.files, source, opts);
  if (snap.scope === 'data') return startWorkerInstance(ctx, record);

  if (!snap.memory || !snap.state) throw new WarrenError('E_SNAPSHOT_INVALID', `full snapshot ${snap.id} lacks its memory or state`, { snapshot: snap.id });
  const [start, state, pages] = await Promise.all([prepareWorkerStart(ctx, record), readGuestState(source, snap.state), locatePages(source, ctx.ports.localBlobs, snap.memory)]);
  const payload: RestorePayload = {
    ...start.payload,
    pages: pages.pageMap.pages,
    packFiles: pages.packFiles,
    indexes: pages.indexes,
    packOf: pages.packOf,
    slotOf: pages.slotOf,
    globals: state.globals,
    wasi: rebaseWasiState(state.wasi, start.payload.mounts),
    ...(state.component ? { component: state.component } : {}),
  };
  const slot = await ctx.pool.placeInstance();
  try {
    const result = await callWorkerOp(slot, 'restore', payload, {
      timeoutMs: Math.max(start.timeoutMs, MIN_RESTORE_TIMEOUT_MS),
    });
    return {
      slot,
      version: record.version,
      reactor: result.reactor,
      memoryBytes: result.memoryBytes,
      lastUsed: Date.now(),
      base: { snapshot: snap.id, store: storeName, map: pages.pageMap },
      // Durable dirs may have moved on from the snapshot (an instance loss keeps them): walked at the next one.
      files: null,
      touched: null,
    };
  } catch (err) {
    await slot.release();
    throw err;
  }
}

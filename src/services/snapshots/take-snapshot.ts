import { WarrenError } from '../../errors.js';
import type { SnapshotScope } from '../../manifest/manifest-types.js';
import type { ComponentVersionRecord, SnapshotRecord, WorkerRecord } from '../../records.js';
import type { GuestStateSnapshot, SnapshotPayload } from '../../runtime/worker-snapshot-ops.js';
import type { NodeContext } from '../node-context.js';
import { callWorkerOp } from '../workers/call-worker-op.js';
import type { LiveInstance, SnapshotBase } from '../workers/live-workers.js';
import { writeGuestState } from './guest-state-blob.js';
import { newSnapshotId } from './snapshot-keys.js';
import { sameStore, snapshotStore, storeNameOf } from './snapshot-store.js';
import { snapshotWorkerFiles } from './snapshot-files.js';
import { PackWriter, usableBase, writePageMap } from './write-page-map.js';

/** Hashing every page of a 4 GiB memory takes seconds: far more than a call's timeout may allow. */
const SNAPSHOT_OP_TIMEOUT_MS = 120_000;

export interface SnapshotStats {
  /** Non-zero pages of the memory (full scope). */
  pages: number;
  /** Pages written into this snapshot's pack (unchanged pages, and identical ones, are not). */
  pagesWritten: number;
  memoryBytesWritten: number;
  filesWritten: number;
  fileBytesWritten: number;
  durationMs: number;
}

export interface TakenSnapshot {
  /** Not yet in the registry: recordSnapshot writes it. */
  snapshot: SnapshotRecord;
  /** The instance's next base, once the record is written (null for `data`). */
  base: SnapshotBase | null;
  stats: SnapshotStats;
}

export interface TakeSnapshotInput {
  record: WorkerRecord;
  version: ComponentVersionRecord;
  scope: SnapshotScope;
  kind: SnapshotRecord['kind'];
  /** Required for `full`: the instance whose memory, globals and WASI state are taken. */
  inst?: LiveInstance;
}

/**
 * Writes every blob of a snapshot (pages, page map, guest state, files, file tree) into the
 * store of its kind, between two calls of the worker (the caller holds its queue). Nothing is
 * recorded here: a crash leaves only blobs no record names, which GC collects.
 */
export async function takeSnapshot(ctx: NodeContext, input: TakeSnapshotInput): Promise<TakenSnapshot> {
  const started = performance.now();
  const { record, version, scope, kind, inst } = input;
  const storeName = storeNameOf(kind);
  const target = snapshotStore(ctx, storeName);
  const stats: SnapshotStats = { pages: 0, pagesWritten: 0, memoryBytesWritten: 0, filesWritten: 0, fileBytesWritten: 0, durationMs: 0 };
  let memory: string | null = null;
  let state: string | null = null;
  let base: SnapshotBase | null = null;
  const id = newSnapshotId(record.id);

  if (scope === 'full') {
    if (!inst) throw new WarrenError('E_INTERNAL', `full snapshot of ${record.id} without a live instance`);
    // The base's packs must be in the target store for the new map to point into them, and the
    // chain short enough (usableBase); otherwise every page goes into one new pack.
    const diffBase = inst.base !== null && sameStore(ctx, inst.base.store, storeName) && usableBase(inst.base.map) ? inst.base.map : null;
    // An instance that lives on after the snapshot (a commit) keeps a shadow of its memory, so
    // the next snapshot compares pages instead of hashing them all; a pause drops the instance.
    const shadow = kind === 'commit' ? { baseTag: diffBase ? inst.base!.snapshot : null, shadowTag: id } : {};
    const writer = new PackWriter(target);
    let guest: GuestStateSnapshot;
    try {
      guest = await scanGuest(record.id, inst, diffBase?.digests ?? null, shadow, writer.push);
    } catch (err) {
      writer.abort();
      throw err;
    }
    const pack = await writer.finish(kind === 'commit');
    const pages = await writePageMap({ target, scan: guest, base: diffBase, pack });
    memory = pages.digest;
    state = await writeGuestState(target, { globals: guest.globals, wasi: guest.wasi });
    base = { snapshot: id, store: storeName, map: pages.pageMap };
    stats.pages = Object.keys(guest.digests).length;
    stats.pagesWritten = pages.pagesWritten;
    stats.memoryBytesWritten = pages.bytesWritten;
  }

  const files = await snapshotWorkerFiles(ctx, record.id, version, scope, target);
  stats.filesWritten = files.filesWritten;
  stats.fileBytesWritten = files.bytesWritten;
  stats.durationMs = performance.now() - started;
  const snapshot: SnapshotRecord = {
    id,
    worker: record.id,
    component: record.component,
    version: record.version,
    scope,
    kind,
    node: ctx.nodeId,
    createdAt: new Date().toISOString(),
    memory,
    state,
    files: files.digest,
  };
  return { snapshot, base, stats };
}

async function scanGuest(
  workerId: string,
  inst: LiveInstance,
  base: Record<string, string> | null,
  shadow: Pick<SnapshotPayload, 'baseTag' | 'shadowTag'>,
  onPackChunk: (chunk: Uint8Array) => void,
): Promise<GuestStateSnapshot> {
  const payload: SnapshotPayload = { workerId, base, ...shadow };
  const result = (await callWorkerOp(inst.thread, 'snapshot', payload, { timeoutMs: SNAPSHOT_OP_TIMEOUT_MS, onStdout: onPackChunk })) as unknown as GuestStateSnapshot;
  inst.memoryBytes = result.pages * 65536;
  return result;
}

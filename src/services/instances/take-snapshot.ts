import { WarrenError } from '../../errors.js';
import type { SnapshotScope } from '../../manifest/manifest-types.js';
import type { Integrity } from '../../ports/blobs.js';
import type { ComponentVersionRecord, FileTreeEntry, PageMap, SnapshotRecord, WorkerRecord } from '../../records.js';
import type { GuestStateSnapshot, SnapshotPayload } from '../../runtime/worker-protocol.js';
import type { NodeContext } from '../node-context.js';
import { callWorkerOp } from './call-worker-op.js';
import type { LiveInstance } from './live-workers.js';
import type { SnapshotBase } from '../snapshots/snapshot-store.js';
import { writeGuestState } from '../snapshots/guest-state-blob.js';
import { newSnapshotId } from '../snapshots/snapshot-keys.js';
import { sameStore, snapshotStore, storeNameOf } from '../snapshots/snapshot-store.js';
import { snapshotWorkerFiles, type StoredFiles } from '../snapshots/snapshot-files.js';
import { readWorkerSettings } from '../workers/read-worker-settings.js';
import { normalizeGuestPath } from '../../wasi/mount-table.js';
import { PackWriter, usableBase, writePageMap } from '../snapshots/write-page-map.js';

/** Hashing every page of a 4 GiB memory takes seconds: far more than a call's timeout may allow. */
const SNAPSHOT_OP_TIMEOUT_MS = 120_000;

export interface SnapshotStats {
  /** Non-zero pages of the memory (full scope). */
  pages: number;
  /** Pages written into this snapshot's pack (unchanged pages, and identical ones, are not). */
  pagesWritten: number;
  /** Pages hashed by the scan: with the shadow of a living instance, only those that changed. */
  pagesHashed: number;
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
  files: KnownFiles;
  stats: SnapshotStats;
}

/**
 * The files part of the last snapshot recorded from a live instance: its FileTree blob, and its
 * entries by part (`/` the root, else a volume's mount), in the store it went to. The WASI host
 * tells which mounts each call may have changed (LiveInstance.touched); a part no call touched
 * since is taken as it was, not walked again: an `on_call` snapshot of a call that wrote only to
 * `/data` reads neither the root nor its digest cache.
 */
export interface KnownFiles {
  store: SnapshotBase['store'];
  scope: SnapshotScope;
  digest: Integrity;
  parts: ReadonlyMap<string, readonly FileTreeEntry[]>;
}

/** Once its snapshot is recorded, the instance's next one diffs against it: memory by page, files by the mounts calls touch from now on. */
export function adoptSnapshot(inst: LiveInstance, taken: TakenSnapshot): void {
  if (taken.base) inst.base = taken.base;
  inst.files = taken.files;
  inst.touched = new Set();
}

/** What an invocation says about the files it may have changed: absent (the thread cannot tell) forgets what is known. */
export function noteTouchedMounts(inst: LiveInstance, touched: readonly string[] | undefined): void {
  if (!touched) inst.touched = null;
  else if (inst.touched) for (const mount of touched) inst.touched.add(normalizeGuestPath(mount));
}

/** The entries of `part` as the last snapshot took them, when no call touched it since and they are in `store`. */
function unchangedFiles(ctx: NodeContext, inst: LiveInstance | undefined, store: SnapshotBase['store']): (part: string) => readonly FileTreeEntry[] | null {
  const known = inst?.files;
  const touched = inst?.touched;
  if (!known || !touched || !sameStore(ctx, known.store, store)) return () => null;
  return (part) => (touched.has(normalizeGuestPath(part)) ? null : (known.parts.get(part) ?? null));
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
  const stats: SnapshotStats = { pages: 0, pagesWritten: 0, pagesHashed: 0, memoryBytesWritten: 0, filesWritten: 0, fileBytesWritten: 0, durationMs: 0 };
  const id = newSnapshotId(record.id);
  if (scope === 'full' && !inst) throw new WarrenError('E_INTERNAL', `full snapshot of ${record.id} without a live instance`);
  // Between two calls neither memory nor files change: the guest thread scans memory (and the
  // pack is written and fsynced) while this thread walks the files. Both are awaited before a
  // failure of either is thrown: nothing goes on behind the caller.
  const [memoryPart, filesPart] = await Promise.allSettled([
    scope === 'full' ? snapshotMemory(ctx, record.id, id, kind, storeName, inst!) : null,
    snapshotFiles(ctx, record.id, version, scope, storeName, inst),
  ]);
  if (memoryPart.status === 'rejected') throw memoryPart.reason;
  if (filesPart.status === 'rejected') throw filesPart.reason;
  const guest = memoryPart.value;
  const files = filesPart.value;
  let base: SnapshotBase | null = null;
  if (guest) {
    base = { snapshot: id, store: storeName, map: guest.pageMap };
    stats.pages = guest.pages;
    stats.pagesWritten = guest.pagesWritten;
    stats.pagesHashed = guest.pagesHashed;
    stats.memoryBytesWritten = guest.bytesWritten;
  }
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
    memory: guest?.memory ?? null,
    state: guest?.state ?? null,
    files: files.digest,
  };
  return { snapshot, base, files: { store: storeName, scope, digest: files.digest, parts: files.parts }, stats };
}

/** The files part: the last snapshot's tree as it is when no part it needs was touched since, else the parts that were walked again. */
async function snapshotFiles(ctx: NodeContext, workerId: string, version: ComponentVersionRecord, scope: SnapshotScope, store: SnapshotBase['store'], inst: LiveInstance | undefined): Promise<StoredFiles> {
  const unchanged = unchangedFiles(ctx, inst, store);
  const known = inst?.files;
  const needed = [...(scope === 'full' ? ['/'] : []), ...readWorkerSettings(version).volumes.map((v) => v.mount)];
  if (known && known.scope === scope && needed.every((part) => unchanged(part) !== null)) {
    return { digest: known.digest, bytesWritten: 0, filesWritten: 0, parts: known.parts };
  }
  return snapshotWorkerFiles(ctx, workerId, version, scope, snapshotStore(ctx, store), unchanged);
}

interface StoredMemory {
  /** Digest of the PageMap blob. */
  memory: Integrity;
  /** Digest of the guest state blob (globals, WASI state). */
  state: Integrity;
  pageMap: PageMap;
  pages: number;
  pagesWritten: number;
  pagesHashed: number;
  bytesWritten: number;
}

/** The `full` part of a snapshot: the instance's pages (one pack, diffed against its base), globals and WASI state. */
async function snapshotMemory(ctx: NodeContext, workerId: string, id: string, kind: SnapshotRecord['kind'], storeName: SnapshotBase['store'], inst: LiveInstance): Promise<StoredMemory> {
  const target = snapshotStore(ctx, storeName);
  // The base's packs must be in the target store for the new map to point into them, and the
  // chain short enough (usableBase); otherwise every page goes into one new pack.
  const diffBase = inst.base !== null && sameStore(ctx, inst.base.store, storeName) && usableBase(inst.base.map) ? inst.base.map : null;
  // An instance that lives on after the snapshot (a commit) keeps a shadow of its memory, so
  // the next snapshot compares pages instead of hashing them all; a pause drops the instance.
  const shadow = kind === 'commit' ? { baseTag: diffBase ? inst.base!.snapshot : null, shadowTag: id } : {};
  const writer = new PackWriter(target, kind === 'commit');
  let guest: GuestStateSnapshot;
  try {
    guest = await scanGuest(workerId, inst, diffBase?.digests ?? null, shadow, writer.push);
  } catch (err) {
    writer.abort();
    throw err;
  }
  // The guest state does not wait for the pack; the page map waits for its name only.
  const [pages, state] = await Promise.all([
    writer.finish().then(async (pack) => {
      const [map] = await Promise.all([writePageMap({ target, scan: guest, base: diffBase, pack }), pack?.stored]);
      return map;
    }),
    writeGuestState(target, { globals: guest.globals, wasi: guest.wasi, component: guest.component }),
  ]);
  return {
    memory: pages.digest,
    state,
    pageMap: pages.pageMap,
    pages: Object.keys(guest.digests).length,
    pagesWritten: pages.pagesWritten,
    pagesHashed: guest.hashed,
    bytesWritten: pages.bytesWritten,
  };
}

async function scanGuest(
  workerId: string,
  inst: LiveInstance,
  base: Record<string, string> | null,
  shadow: Pick<SnapshotPayload, 'baseTag' | 'shadowTag'>,
  onPackChunk: (chunk: Uint8Array) => void,
): Promise<GuestStateSnapshot> {
  const payload: SnapshotPayload = { workerId, base, ...shadow };
  const result = await callWorkerOp(inst.slot, 'snapshot', payload, { timeoutMs: SNAPSHOT_OP_TIMEOUT_MS, onStdout: onPackChunk });
  inst.memoryBytes = result.pages * 65536;
  return result;
}

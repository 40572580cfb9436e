import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readRootTag, recoverRoot, removeWorkerDir } from '../../fsplace/index.js';
import type { WorkerRecord } from '../../records.js';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { getComponentVersion } from '../components/component-keys.js';
import { storeRootBaseline } from './root-baseline.js';
import { finishDelete } from './delete-worker.js';
import { updateWorkerRecord } from './update-worker-record.js';
import { removeUnusedVersionTrees } from './version-tree.js';
import { workerKey, workerPaths, type WorkerNameIndex } from './worker-keys.js';

export interface RecoveryReport {
  /** Worker directories without a record (a create that crashed before its records). */
  orphanDirs: string[];
  /** Deletes a crash interrupted, finished now. */
  finishedDeletes: string[];
  /** Name index entries of this node whose worker record never came. */
  danglingNames: string[];
  /** Workers marked running/… when the node stopped: no instance survives a restart. */
  reset: string[];
  /** Workers whose record now names the version of the tree in their root (an update crashed after its files). */
  versionsAligned: string[];
  /** Shared version trees (`<data>/trees/<hex>`) of versions that no longer exist, removed. */
  treesRemoved: string[];
}

const TRANSIENT: ReadonlySet<string> = new Set(['running', 'pausing', 'resuming', 'committing']);

/**
 * Leftovers younger than this are left alone: another process on the same data dir (`warren
 * serve` and a `--local` command) may be creating that worker right now, files placed and the
 * record not yet written. A crashed create's leftovers go at a later start.
 */
export const IN_FLIGHT_GRACE_MS = 15 * 60_000;

async function isRecent(dir: string, now: number): Promise<boolean> {
  const st = await stat(dir).catch(() => null);
  return st !== null && now - st.mtimeMs < IN_FLIGHT_GRACE_MS;
}

/**
 * Run at node start, before the API serves: brings `<data>/workers` and the worker records of
 * this node back in line after a crash. Each root also gets fsplace's `recoverRoot` (an update
 * interrupted half-way is rolled back or forward). Shared trees of deleted versions go too.
 */
export async function recoverWorkers(ctx: NodeContext): Promise<RecoveryReport> {
  const { registry } = ctx.ports;
  const now = Date.now();
  const report: RecoveryReport = { orphanDirs: [], finishedDeletes: [], danglingNames: [], reset: [], versionsAligned: [], treesRemoved: [] };
  const records = new Map((await registry.list<WorkerRecord>(REGISTRY_PREFIX.worker)).map((e) => [e.value.id, e.value]));
  // Embedded storage has one node, whose id may change between starts: every worker is its own.
  const embedded = ctx.ports.blobs === ctx.ports.localBlobs;
  const ours = (node: string) => embedded || node === ctx.nodeId;

  for (const record of records.values()) {
    if (!ours(record.node)) continue;
    if (record.status === 'deleted') {
      await finishDelete(ctx, record);
      records.delete(record.id);
      report.finishedDeletes.push(record.id);
    } else if (TRANSIENT.has(record.status) || record.node !== ctx.nodeId) {
      await updateWorkerRecord(ctx, record.id, (r) => ({
        ...r,
        node: ctx.nodeId,
        status: !TRANSIENT.has(r.status) ? r.status : r.status === 'running' ? 'idle' : 'failed',
      }));
      if (TRANSIENT.has(record.status)) report.reset.push(record.id);
    }
  }

  const dirs = await readdir(ctx.layout.workers, { withFileTypes: true }).catch(() => []);
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    if (!records.has(d.name)) {
      const dir = join(ctx.layout.workers, d.name);
      if (await isRecent(dir, now)) continue;
      await removeWorkerDir(dir);
      report.orphanDirs.push(d.name);
      continue;
    }
    const root = workerPaths(ctx, d.name).root;
    await recoverRoot(root);
    await alignVersionWithRoot(ctx, records.get(d.name)!, root, report);
  }

  for (const entry of await registry.list<WorkerNameIndex>(REGISTRY_PREFIX.workerName)) {
    if (!ours(entry.value.node) || records.has(entry.value.id)) continue;
    if (now - Date.parse(entry.value.createdAt) < IN_FLIGHT_GRACE_MS) continue;
    if (await registry.get(workerKey(entry.value.id))) continue;
    await registry.delete(entry.key, entry.revision).catch(() => undefined);
    report.danglingNames.push(entry.key);
  }
  report.treesRemoved = await removeUnusedVersionTrees(ctx);
  if (report.treesRemoved.length > 0) ctx.logger.info({ trees: report.treesRemoved }, 'removed the shared trees of deleted versions');
  if (report.orphanDirs.length + report.finishedDeletes.length + report.danglingNames.length + report.reset.length + report.versionsAligned.length > 0) {
    ctx.logger.warn(report, 'recovered workers after an unclean stop');
  }
  return report;
}

/**
 * An update writes files first and the record after: a crash in between leaves the new tree
 * under the old version in the record. The root's tag names the tree's version; the record
 * follows it (the update was never acknowledged, so either version is a correct outcome, but
 * files and record must agree).
 */
async function alignVersionWithRoot(ctx: NodeContext, record: WorkerRecord, root: string, report: RecoveryReport): Promise<void> {
  const tag = (await readRootTag(root))?.version;
  if (!tag || tag === record.version || record.status === 'deleted') return;
  const version = await getComponentVersion(ctx.ports.registry, record.component, tag);
  // No instance ran since the update placed these files: they are the new version's baseline.
  const baseline = await storeRootBaseline(ctx, record.id, version);
  await updateWorkerRecord(ctx, record.id, (r) => ({ ...r, version: tag, baseline }));
  report.versionsAligned.push(`${record.id}: ${record.version} -> ${tag}`);
}

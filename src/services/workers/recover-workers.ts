import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { recoverRoot, removeWorkerDir } from '../../fsplace/index.js';
import type { WorkerRecord } from '../../records.js';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { finishDelete } from './delete-worker.js';
import { updateWorkerRecord } from './update-worker-record.js';
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
}

const TRANSIENT: ReadonlySet<string> = new Set(['running', 'pausing', 'resuming', 'committing']);

/**
 * Run at node start, before the API serves: brings `<data>/workers` and the worker records of
 * this node back in line after a crash. Each root also gets fsplace's `recoverRoot` (an update
 * interrupted half-way is rolled back or forward).
 */
export async function recoverWorkers(ctx: NodeContext): Promise<RecoveryReport> {
  const { registry } = ctx.ports;
  const report: RecoveryReport = { orphanDirs: [], finishedDeletes: [], danglingNames: [], reset: [] };
  const records = new Map((await registry.list<WorkerRecord>(REGISTRY_PREFIX.worker)).map((e) => [e.value.id, e.value]));

  for (const record of records.values()) {
    if (record.node !== ctx.nodeId) continue;
    if (record.status === 'deleted') {
      await finishDelete(ctx, record);
      records.delete(record.id);
      report.finishedDeletes.push(record.id);
    } else if (TRANSIENT.has(record.status)) {
      await updateWorkerRecord(ctx, record.id, (r) => ({ ...r, status: r.status === 'running' ? 'idle' : 'failed' }));
      report.reset.push(record.id);
    }
  }

  const dirs = await readdir(ctx.layout.workers, { withFileTypes: true }).catch(() => []);
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    if (!records.has(d.name)) {
      await removeWorkerDir(join(ctx.layout.workers, d.name));
      report.orphanDirs.push(d.name);
      continue;
    }
    await recoverRoot(workerPaths(ctx, d.name).root);
  }

  for (const entry of await registry.list<WorkerNameIndex>(REGISTRY_PREFIX.workerName)) {
    if (entry.value.node !== ctx.nodeId || records.has(entry.value.id)) continue;
    if (await registry.get(workerKey(entry.value.id))) continue;
    await registry.delete(entry.key, entry.revision).catch(() => undefined);
    report.danglingNames.push(entry.key);
  }
  if (report.orphanDirs.length + report.finishedDeletes.length + report.danglingNames.length + report.reset.length > 0) {
    ctx.logger.warn(report, 'recovered workers after an unclean stop');
  }
  return report;
}

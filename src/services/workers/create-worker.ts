import { WarrenError, isWarrenError } from '../../errors.js';
import { removeWorkerDir } from '../../fsplace/index.js';
import { placeWorkerRoot } from './place-worker-root.js';
import { validateFqName } from '../../manifest/validate-fq-name.js';
import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { checkWorkerArgs, checkWorkerEnv } from './check-worker-env.js';
import { newWorkerId } from './new-worker-id.js';
import { validateWorkerName } from './validate-worker-name.js';
import { workerKey, workerNameKey, workerPaths, type WorkerNameIndex } from './worker-keys.js';

export interface CreateWorkerInput {
  component: string;
  /** Default: the latest version. */
  version?: string;
  name: string;
  env?: Record<string, string>;
  args?: string[];
  /** Called with the component's namespace before anything is placed (the API's auth check). */
  authorize?: (namespace: string) => void;
  /** Runs once the files are placed, before any record is written (a fork restores a snapshot's files here). */
  prepareFiles?: (workerId: string) => Promise<void>;
  /** Status and snapshot pointers of the new record (a fork starts paused at its snapshot). */
  initial?: Pick<WorkerRecord, 'status' | 'lastSnapshot' | 'lastCommit'>;
}

/**
 * Creates a worker: its files first (root placed from the version's file tree, one directory
 * per volume), then its records (the name index, won by compare-and-set, then `worker/<id>`).
 * A crash in between leaves a directory without a record, which `recoverWorkers` removes.
 */
export async function createWorker(ctx: NodeContext, input: CreateWorkerInput): Promise<WorkerRecord> {
  const { registry, blobs } = ctx.ports;
  const name = validateWorkerName(input.name);
  const fq = validateFqName(input.component);
  const env = checkWorkerEnv(input.env);
  const args = checkWorkerArgs(input.args);
  const version = await getComponentVersion(registry, fq, input.version);
  input.authorize?.(version.namespace);
  const nameKey = workerNameKey(version.namespace, name);
  // Cheap early refusal; the compare-and-set below is what makes it race-free.
  if (await registry.get(nameKey)) throw nameExists(version.namespace, name);

  const id = newWorkerId();
  const paths = workerPaths(ctx, id);
  try {
    await placeWorkerRoot(ctx, id, version);
    await input.prepareFiles?.(id);
    const now = new Date().toISOString();
    const record: WorkerRecord = {
      id,
      name,
      namespace: version.namespace,
      component: version.fq,
      version: version.version,
      node: ctx.nodeId,
      status: 'idle',
      env,
      args,
      createdAt: now,
      updatedAt: now,
      lastSnapshot: null,
      lastCommit: null,
      ...input.initial,
    };
    await claimNameAndRecord(ctx, nameKey, record);
    ctx.logger.info({ worker: id, name, component: `${version.fq}@${version.version}` }, 'worker created');
    return record;
  } catch (err) {
    await releaseName(ctx, nameKey, id);
    await removeWorkerDir(paths.dir);
    throw err;
  }
}

/**
 * Wins the name index and writes the worker record in one registry call (one SQLite transaction
 * on a single node): of two creates of one name, one wins the index by compare-and-set. On
 * JetStream KV the two writes go in order, so a crash between them leaves an index without a
 * record; `recoverWorkers` clears such an entry on its node's restart, never here: here it
 * cannot be told apart from a create that is still placing files.
 */
async function claimNameAndRecord(ctx: NodeContext, nameKey: string, record: WorkerRecord): Promise<void> {
  const index: WorkerNameIndex = { id: record.id, node: ctx.nodeId, createdAt: record.createdAt };
  try {
    await ctx.ports.registry.compareAndSetEach([
      { key: nameKey, value: index, expected: 0 },
      { key: workerKey(record.id), value: record, expected: 0 },
    ]);
  } catch (err) {
    if (isWarrenError(err, 'E_CONFLICT') && err.details?.key === nameKey) throw nameExists(record.namespace, record.name);
    throw err;
  }
}

/** Removes the name index after a failed create, if this create is the one that wrote it. */
async function releaseName(ctx: NodeContext, nameKey: string, id: string): Promise<void> {
  const entry = await ctx.ports.registry.get<WorkerNameIndex>(nameKey).catch(() => null);
  if (entry?.value.id === id) await ctx.ports.registry.delete(nameKey, entry.revision).catch(() => undefined);
}

function nameExists(namespace: string, name: string): WarrenError {
  return new WarrenError('E_ALREADY_EXISTS', `a worker named ${name} already exists in ${namespace}`, { namespace, name });
}

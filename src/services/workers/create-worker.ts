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
  let claimed = false;
  try {
    await placeWorkerRoot(ctx, id, version);
    await input.prepareFiles?.(id);
    await claimName(ctx, nameKey, id, version.namespace, name);
    claimed = true;
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
    await registry.compareAndSet(workerKey(id), record, 0);
    ctx.logger.info({ worker: id, name, component: `${version.fq}@${version.version}` }, 'worker created');
    return record;
  } catch (err) {
    if (claimed) await registry.delete(nameKey).catch(() => undefined);
    await removeWorkerDir(paths.dir);
    throw err;
  }
}

/**
 * Wins the name index with compare-and-set: of two creates of one name, one wins. An entry left
 * by a crash (no worker record behind it) is cleared by `recoverWorkers` on its node's restart,
 * never here: here it cannot be told apart from a create that is still placing files.
 */
async function claimName(ctx: NodeContext, nameKey: string, id: string, namespace: string, name: string): Promise<void> {
  const index: WorkerNameIndex = { id, node: ctx.nodeId, createdAt: new Date().toISOString() };
  try {
    await ctx.ports.registry.compareAndSet(nameKey, index, 0);
  } catch (err) {
    if (isWarrenError(err, 'E_CONFLICT')) throw nameExists(namespace, name);
    throw err;
  }
}

function nameExists(namespace: string, name: string): WarrenError {
  return new WarrenError('E_ALREADY_EXISTS', `a worker named ${name} already exists in ${namespace}`, { namespace, name });
}

import type { StartWorkerPayload } from '../../runtime/worker-protocol.js';
import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import { loadLinkedModules } from '../components/load-linked-modules.js';
import type { NodeContext } from '../node-context.js';
import { callWorkerOp } from './call-worker-op.js';
import { buildWorkerMounts } from '../workers/build-worker-mounts.js';
import { findReadOnlyFiles } from '../workers/find-read-only-files.js';
import type { LiveInstance } from './live-workers.js';
import { loadFileTree } from '../workers/load-file-tree.js';
import { readWorkerSettings } from '../workers/read-worker-settings.js';
import { workerPaths } from '../workers/worker-keys.js';
import { workerLayers } from '../workers/worker-layers.js';

export interface WorkerStart {
  payload: StartWorkerPayload;
  /** The version's per-call timeout, ms. */
  timeoutMs: number;
}

/**
 * What a thread needs to instantiate a worker's current version: linked modules, args, env, and
 * the mount table of the worker's dirs (its root over the version's shared read-only tree).
 */
export async function prepareWorkerStart(ctx: NodeContext, record: WorkerRecord): Promise<WorkerStart> {
  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const settings = readWorkerSettings(version);
  const modules = await loadLinkedModules(ctx, version);
  const paths = workerPaths(ctx, record.id);
  const layers = await workerLayers(ctx, record.id, version);
  // A root placed before overlays holds its read-only files: found by inode, under any name.
  const readOnlyPaths = layers.overlay ? [] : (await findReadOnlyFiles(ctx.ports.blobs, paths.root, await loadFileTree(ctx.ports.blobs, version.fileTree))).paths;
  const payload: StartWorkerPayload = {
    workerId: record.id,
    modules: { main: modules.main, extensions: modules.extensions, ...(modules.component ? { component: modules.component } : {}) },
    modulesKey: modules.key,
    args: [version.name, ...record.args],
    env: { ...settings.env, ...record.env },
    mounts: buildWorkerMounts(paths, layers, settings.volumes, readOnlyPaths),
    limits: { maxOutputBytes: ctx.maxOutputBytes, memoryMaxBytes: modules.memoryMaxBytes, diskQuotaBytes: settings.limits.disk },
  };
  return { payload, timeoutMs: settings.limits.timeout };
}

/**
 * Starts a fresh instance of a worker's current version on a guest thread (`_initialize` for
 * reactors runs here, under the version's timeout). The caller owns the returned instance.
 */
export async function startWorkerInstance(ctx: NodeContext, record: WorkerRecord): Promise<LiveInstance> {
  const { payload, timeoutMs } = await prepareWorkerStart(ctx, record);
  const slot = await ctx.pool.placeInstance();
  try {
    const result = await callWorkerOp(slot, 'start', payload, { timeoutMs });
    return { slot, version: record.version, reactor: result.reactor, memoryBytes: result.memoryBytes, lastUsed: Date.now(), base: null, files: null, touched: null };
  } catch (err) {
    await slot.release();
    throw err;
  }
}

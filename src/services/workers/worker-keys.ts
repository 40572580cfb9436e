import { join } from 'node:path';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeContext } from '../node-context.js';

export function workerKey(id: string): string {
  return `${REGISTRY_PREFIX.worker}${id}`;
}

/** `worker-name/<ns>/<name>` → `{id}`: created with compare-and-set so a name is won once. */
export function workerNameKey(namespace: string, name: string): string {
  return `${REGISTRY_PREFIX.workerName}${namespace}/${name}`;
}

export interface WorkerNameIndex {
  id: string;
  /** The node that created it: only that node's recovery may clear it if the worker record never came. */
  node: string;
  createdAt: string;
}

/** Where a worker's bytes live on this node. */
export interface WorkerPaths {
  dir: string;
  root: string;
  volumes: string;
}

export function workerPaths(ctx: NodeContext, id: string): WorkerPaths {
  const dir = join(ctx.layout.workers, id);
  return { dir, root: join(dir, 'root'), volumes: join(dir, 'volumes') };
}

export function volumeDir(paths: WorkerPaths, volumeName: string): string {
  return join(paths.volumes, volumeName);
}

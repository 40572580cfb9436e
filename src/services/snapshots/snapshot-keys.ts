import { randomBytes } from 'node:crypto';
import { WarrenError } from '../../errors.js';
import { REGISTRY_PREFIX, type SnapshotRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';

export function snapshotKey(id: string): string {
  return `${REGISTRY_PREFIX.snapshot}${id}`;
}

/** A worker's snapshots share a key prefix, so listing them is one prefix scan. */
export function snapshotPrefixOf(workerId: string): string {
  return `${REGISTRY_PREFIX.snapshot}${workerId}.s`;
}

/** `<worker id>.s<time, base 36, fixed width><random>`: sorts by time within a worker. */
export function newSnapshotId(workerId: string, now = Date.now()): string {
  return `${workerId}.s${now.toString(36).padStart(9, '0')}${randomBytes(4).toString('hex')}`;
}

export async function getSnapshot(ctx: NodeContext, id: string): Promise<SnapshotRecord> {
  const entry = await ctx.ports.registry.get<SnapshotRecord>(snapshotKey(id));
  if (!entry) throw new WarrenError('E_NOT_FOUND', `no snapshot ${id}`, { snapshot: id });
  return entry.value;
}

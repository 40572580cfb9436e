import type { Blobs } from '../../ports/blobs.js';
import type { NatsBlobs } from '../../ports/nats/nats-blobs.js';

/** The node-cache verbs of the cluster blob store (NatsBlobs); embedded blobs have none. */
export type NodeCache = Pick<NatsBlobs, 'prefetch' | 'evictLocal'>;

export function nodeCacheOf(blobs: Blobs): NodeCache | null {
  const b = blobs as Partial<NodeCache>;
  return typeof b.prefetch === 'function' && typeof b.evictLocal === 'function' ? (blobs as unknown as NodeCache) : null;
}

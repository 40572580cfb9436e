import { dataLayout } from '../config.js';
import type { Blobs, LocalBlobs, NodeCache } from './blobs.js';
import type { Bus } from './bus.js';
import type { Registry } from './registry.js';
import { DiskBlobs } from './embedded/disk-blobs.js';
import { LocalBus } from './embedded/local-bus.js';
import { SqliteRegistry } from './embedded/sqlite-registry.js';

export interface Ports {
  blobs: Blobs;
  registry: Registry;
  bus: Bus;
  /** The node's own local store: the same as `blobs` when embedded, the golden cache in a cluster. */
  localBlobs: LocalBlobs;
  /** The cluster store's cache on this node; null when embedded (the local store is the only one). */
  nodeCache: NodeCache | null;
  close(): Promise<void>;
}

/** The embedded ports: everything under `<data>`, no servers. */
export function openEmbeddedPorts(dataDir: string): Ports {
  const layout = dataLayout(dataDir);
  const blobs = new DiskBlobs(layout.store);
  const registry = new SqliteRegistry(layout.registryDb);
  const bus = new LocalBus();
  return {
    blobs,
    registry,
    bus,
    localBlobs: blobs,
    nodeCache: null,
    async close() {
      await bus.close();
      await registry.close();
      await blobs.close();
    },
  };
}

import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { dataLayout } from '../../config.js';
import { WarrenError } from '../../errors.js';
import { DiskBlobs } from '../embedded/disk-blobs.js';
import type { Ports } from '../open-ports.js';
import { NatsBlobs } from './nats-blobs.js';
import { NatsBus } from './nats-bus.js';
import { fromNatsError } from './nats-errors.js';
import { NatsRegistry } from './nats-registry.js';

export interface NatsPortsOptions {
  /** `nats://host:port` URLs of one cluster. */
  servers: string[];
  dataDir: string;
  nodeId: string;
  /** Replicas of new buckets; default: 3 when the server reports a cluster of three or more, else 1. */
  replicas?: number;
  /** How long to wait for JetStream (meta leader) while creating buckets. Default 30 s. */
  readyTimeoutMs?: number;
}

/**
 * The cluster ports: one NATS connection for Registry (KV `warren_registry`), Blobs (Object
 * Store `warren_blobs` over the node's DiskBlobs at `<data>/store`) and Bus. Buckets are created
 * if missing; existing ones are bound as they are (their replicas are not changed).
 */
export async function openNatsPorts(opts: NatsPortsOptions): Promise<Ports> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: opts.servers, name: `warren-${opts.nodeId}`, maxReconnectAttempts: -1 });
  } catch (err) {
    throw fromNatsError(err, `connecting to NATS ${opts.servers.join(', ')}`, { servers: opts.servers });
  }
  try {
    const replicas = opts.replicas ?? clusterReplicas(nc);
    const js = jetstream(nc);
    const localBlobs = new DiskBlobs(dataLayout(opts.dataDir).store);
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    const registry = await untilJetStreamReady(() => NatsRegistry.open(js, { replicas }), deadline);
    const blobs = await untilJetStreamReady(() => NatsBlobs.open(js, localBlobs, { replicas }), deadline);
    const bus = new NatsBus(nc);
    return {
      blobs,
      registry,
      bus,
      localBlobs,
      nodeCache: blobs,
      async close() {
        await bus.close();
        await registry.close();
        await blobs.close();
        await localBlobs.close();
        if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
      },
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}

/** connect_urls lists the client URLs of every server of the cluster the server knows of. */
function clusterReplicas(nc: NatsConnection): number {
  const info = nc.info;
  if (!info?.cluster) return 1;
  return (info.connect_urls?.length ?? 1) >= 3 ? 3 : 1;
}

/** JetStream answers 503/timeouts while a cluster elects its meta leader: retry until the deadline. */
async function untilJetStreamReady<T>(open: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await open();
    } catch (err) {
      const e = fromNatsError(err, 'opening JetStream bucket');
      const transient = e.code === 'E_UNAVAILABLE' || /insufficient resources|no suitable peers|leader/i.test(e.message);
      if (!transient || Date.now() > deadline) {
        throw transient ? new WarrenError('E_UNAVAILABLE', `JetStream not ready: ${e.message}`, e.details) : e;
      }
      await sleep(250);
    }
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isWarrenError } from '../../errors.js';
import type { Registry } from '../../ports/registry.js';
import { generatePem, importServerKey } from '../tokens/server-key.js';

export const CLUSTER_SERVER_KEY = 'cluster/server-key';

interface ClusterServerKeyRecord {
  algorithm: 'ed25519';
  /** PKCS#8 PEM of the signing key. */
  pem: string;
  createdAt: string;
}

/**
 * Cluster mode: every node signs and verifies tokens with one key, kept in the registry under
 * `cluster/server-key`. The first node to join seeds it with its own `server.key` (so tokens it
 * issued before joining stay valid), winning a compare-and-set at revision 0; every node then
 * writes that key into its `<data>/server.key` (0600) before the TokenService loads it, so the
 * token code is the same in both modes. A node that had another key keeps it aside as
 * `server.key.pre-cluster` and its old tokens stop verifying.
 *
 * Trust model: whoever can read the NATS KV bucket can mint tokens of any role. The bucket is
 * as secret as the key file: the NATS account's credentials (and, in front of the API, the
 * `node` role that nodes use to call each other) are what guard it. Run the cluster's NATS with
 * authentication and TLS when the network is not trusted.
 */
export async function adoptClusterServerKey(registry: Registry, keyFile: string, logger: Logger, readyTimeoutMs = 30_000): Promise<{ seeded: boolean; replacedLocal: boolean }> {
  // Nodes that start with a new cluster meet buckets whose replicas are still electing a leader.
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      return await adoptOnce(registry, keyFile, logger);
    } catch (err) {
      if (!isWarrenError(err, 'E_UNAVAILABLE') || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

async function adoptOnce(registry: Registry, keyFile: string, logger: Logger): Promise<{ seeded: boolean; replacedLocal: boolean }> {
  let entry = await registry.get<ClusterServerKeyRecord>(CLUSTER_SERVER_KEY);
  let seeded = false;
  if (!entry) {
    const pem = existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : generatePem();
    await importServerKey(pem, keyFile); // never seed the cluster with a key that does not load
    try {
      await registry.compareAndSet(CLUSTER_SERVER_KEY, { algorithm: 'ed25519', pem, createdAt: new Date().toISOString() } satisfies ClusterServerKeyRecord, 0);
      seeded = true;
    } catch (err) {
      if (!isWarrenError(err, 'E_CONFLICT')) throw err; // another node seeded it first: take theirs
    }
    entry = await registry.get<ClusterServerKeyRecord>(CLUSTER_SERVER_KEY);
    if (!entry) throw new Error(`${CLUSTER_SERVER_KEY} vanished right after it was written`);
  }
  const pem = entry.value.pem;
  await importServerKey(pem, CLUSTER_SERVER_KEY);
  const local = existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : null;
  if (local === pem) return { seeded, replacedLocal: false };
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  if (local !== null) {
    writePrivate(`${keyFile}.pre-cluster`, local);
    logger.warn({ keyFile }, 'replaced this node\'s server key with the cluster\'s (old key kept as server.key.pre-cluster); tokens it signed alone no longer verify');
  }
  writePrivate(keyFile, pem);
  return { seeded, replacedLocal: local !== null };
}

/** Temp file (0600) renamed into place: readers never see half a key. */
function writePrivate(file: string, content: string): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import { WarrenError } from '../../errors.js';
import type { Registry, RegistryEntry, RegistryEvent, RegistryValue, RegistryWrite } from '../registry.js';
import { fromNatsError, isWrongLastSequence } from './nats-errors.js';
import { decodeRegistryKey, encodeRegistryKey, prefixFilter } from './registry-key-codec.js';

export const REGISTRY_BUCKET = 'warren_registry';

/** Parallel `get`s while listing; a list is keys (one consumer) plus one direct get per key. */
const LIST_CONCURRENCY = 16;

/**
 * The cluster registry: one JetStream KV bucket, history 1. Revisions are the bucket's stream
 * sequences, so they increase across keys as the SQLite registry's do. Keys are encoded by
 * `registry-key-codec.ts` (one KV token per `/` segment) so prefix lists are server-side
 * subject filters. Values are JSON.
 *
 * A delete writes a KV delete marker (the key then reads as null and leaves lists). A CAS on a
 * deleted key expects 0, as for a key that never existed.
 */
export class NatsRegistry implements Registry {
  private readonly watchers = new Set<{ stop(): void }>();

  constructor(private readonly kv: KV) {}

  /** Binds to the bucket, creating it (history 1, `replicas`) if it does not exist. */
  static async open(js: JetStreamClient, opts: { replicas: number; bucket?: string }): Promise<NatsRegistry> {
    // allow_direct off: a direct get may be answered by any replica, one that has not seen a write
    // acknowledged a moment ago (a component pushed on A read through C as missing). Gets go to the
    // stream leader instead: read-after-write, which compare-and-set callers rely on.
    const kv = await new Kvm(js).create(opts.bucket ?? REGISTRY_BUCKET, { history: 1, replicas: opts.replicas, allow_direct: false });
    return new NatsRegistry(kv);
  }

  async get<T = RegistryValue>(key: string): Promise<RegistryEntry<T> | null> {
    let entry: KvEntry | null;
    try {
      entry = await this.kv.get(encodeRegistryKey(key));
    } catch (err) {
      throw fromNatsError(err, `registry get ${key}`, { key });
    }
    return entry && entry.operation === 'PUT' ? toEntry<T>(key, entry) : null;
  }

  async put(key: string, value: RegistryValue): Promise<number> {
    try {
      return await this.kv.put(encodeRegistryKey(key), encodeValue(value));
    } catch (err) {
      throw fromNatsError(err, `registry put ${key}`, { key });
    }
  }

  async compareAndSet(key: string, value: RegistryValue, expected: number): Promise<number> {
    const kvKey = encodeRegistryKey(key);
    try {
      // create() also succeeds over a delete marker: a deleted key is at revision 0.
      return expected === 0 ? await this.kv.create(kvKey, encodeValue(value)) : await this.kv.update(kvKey, encodeValue(value), expected);
    } catch (err) {
      if (isWrongLastSequence(err)) throw await this.conflict(key, expected);
      throw fromNatsError(err, `registry compare-and-set ${key}`, { key });
    }
  }

  async compareAndSetEach(writes: readonly RegistryWrite[]): Promise<number[]> {
    const revisions: number[] = [];
    for (const w of writes) revisions.push(await this.compareAndSet(w.key, w.value, w.expected));
    return revisions;
  }

  async delete(key: string, expected?: number): Promise<void> {
    // A missing key is fine and must not emit a delete event, as in the embedded registry.
    const current = (await this.get(key))?.revision ?? 0;
    if (expected !== undefined && current !== expected) throw await this.conflict(key, expected);
    if (current === 0) return;
    try {
      // previousSeq = current makes the check-and-delete atomic on the server.
      await this.kv.delete(encodeRegistryKey(key), { previousSeq: current });
    } catch (err) {
      if (isWrongLastSequence(err)) {
        if (expected !== undefined) throw await this.conflict(key, expected);
        return this.delete(key); // changed between our read and delete: an unconditional delete retries
      }
      throw fromNatsError(err, `registry delete ${key}`, { key });
    }
  }

  async list<T = RegistryValue>(prefix: string): Promise<RegistryEntry<T>[]> {
    const keys: string[] = [];
    try {
      for await (const kvKey of await this.kv.keys(prefixFilter(prefix))) {
        const key = decodeRegistryKey(kvKey);
        if (key.startsWith(prefix)) keys.push(key);
      }
    } catch (err) {
      throw fromNatsError(err, `registry list ${prefix}`, { prefix });
    }
    keys.sort();
    const out: (RegistryEntry<T> | null)[] = new Array(keys.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const i = next++;
        out[i] = await this.get<T>(keys[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, keys.length) }, worker));
    // A key deleted between the key scan and its get is simply gone.
    return out.filter((e): e is RegistryEntry<T> => e !== null);
  }

  async watch(prefix: string, onEvent: (event: RegistryEvent) => void): Promise<() => void> {
    let iter;
    try {
      iter = await this.kv.watch({ key: prefixFilter(prefix), include: KvWatchInclude.UpdatesOnly });
    } catch (err) {
      throw fromNatsError(err, `registry watch ${prefix}`, { prefix });
    }
    const handle = { stop: () => iter.stop() };
    this.watchers.add(handle);
    void (async () => {
      try {
        for await (const e of iter) {
          const key = decodeRegistryKey(e.key);
          if (!key.startsWith(prefix)) continue;
          const event: RegistryEvent =
            e.operation === 'PUT' ? { type: 'put', key, value: decodeValue(e.value), revision: e.revision } : { type: 'delete', key, revision: e.revision };
          try {
            onEvent(event);
          } catch {
            // a failing listener must not end the watch for the events after it
          }
        }
      } catch {
        // The watch ends with the connection; callers re-list after a reconnect.
      } finally {
        this.watchers.delete(handle);
      }
    })();
    return () => {
      handle.stop();
      this.watchers.delete(handle);
    };
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.stop();
    this.watchers.clear();
  }

  private async conflict(key: string, expected: number): Promise<WarrenError> {
    const current = (await this.get(key).catch(() => null))?.revision ?? 0;
    return new WarrenError('E_CONFLICT', `registry key ${key} is at revision ${current}, expected ${expected}`, { key, current, expected });
  }
}

function encodeValue(value: RegistryValue): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

function decodeValue(bytes: Uint8Array): RegistryValue {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as RegistryValue;
}

function toEntry<T>(key: string, entry: KvEntry): RegistryEntry<T> {
  return { key, value: decodeValue(entry.value) as T, revision: entry.revision };
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Objm, type ObjectResult, type ObjectStore } from '@nats-io/obj';
import { WarrenError, isWarrenError } from '../../errors.js';
import type { BlobInfo, Blobs, EvictLocalOptions, EvictLocalResult, Integrity, NodeCache, PutOptions } from '../blobs.js';
import { assertIntegrity, contentPath, type DiskBlobs } from '../embedded/disk-blobs.js';
import { evictLocalBlobs } from './evict-local-blobs.js';
import { fromNatsError } from './nats-errors.js';
import { runAllBounded } from '../../fsplace/run-bounded.js';
import { touchObject } from './touch-object.js';

export const BLOBS_BUCKET = 'warren_blobs';

/**
 * The cluster blob store: a JetStream Object Store bucket, with the node's DiskBlobs as the
 * golden copy and read-through cache. Objects are named by the integrity string itself
 * (`sha256-<base64>`): the client base64url-encodes names into meta subjects, so `+ / =` are fine.
 *
 * Writes land locally first (that is where the integrity is learnt), then upload unless the
 * bucket already holds the name (then only the object's mtime is bumped, restarting the GC
 * grace period). Reads are local first; a miss fetches the object into the local store, so
 * `path` always returns a local file to hardlink. `has`, `info` and `list` speak for the
 * cluster store.
 */
export class NatsBlobs implements Blobs, NodeCache {
  private readonly fetching = new Map<Integrity, Promise<number>>();
  private readonly lastUsed = new Map<Integrity, number>();

  constructor(
    readonly local: DiskBlobs,
    private readonly os: ObjectStore,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string = BLOBS_BUCKET,
  ) {}

  /** Binds to the bucket, creating it with `replicas` if it does not exist. */
  static async open(js: JetStreamClient, local: DiskBlobs, opts: { replicas: number; bucket?: string }): Promise<NatsBlobs> {
    const bucket = opts.bucket ?? BLOBS_BUCKET;
    const os = await new Objm(js).create(bucket, { replicas: opts.replicas });
    // create() ignores a failed stream lookup (a timeout while JetStream elects a leader) and then
    // creates nothing: make sure the stream is there, so that the caller can retry if it is not.
    try {
      await os.status();
    } catch (err) {
      if (err instanceof Error && /not found/i.test(err.message)) throw new WarrenError('E_UNAVAILABLE', `object store ${bucket} was not created: ${err.message}`, { bucket });
      throw err;
    }
    return new NatsBlobs(local, os, js, await js.jetstreamManager(), bucket);
  }

  async put(data: Uint8Array | string, opts?: PutOptions): Promise<BlobInfo> {
    const local = await this.local.put(data, opts);
    return this.publish(local.integrity);
  }

  async putStream(source: Readable | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<BlobInfo> {
    const local = await this.local.putStream(source, opts);
    return this.publish(local.integrity);
  }

  async get(integrity: Integrity): Promise<Buffer> {
    await this.ensureLocal(integrity);
    return this.local.get(integrity);
  }

  async has(integrity: Integrity): Promise<boolean> {
    return (await this.info(integrity)) !== null;
  }

  async info(integrity: Integrity): Promise<BlobInfo | null> {
    assertIntegrity(integrity);
    try {
      const info = await this.os.info(integrity);
      if (!info || info.deleted) return null;
      return { integrity, size: info.size, time: Date.parse(info.mtime) };
    } catch (err) {
      throw fromNatsError(err, `blob info ${integrity}`, { integrity });
    }
  }

  stream(integrity: Integrity): Readable {
    assertIntegrity(integrity);
    const out = new PassThrough();
    this.ensureLocal(integrity)
      .then(() => pipeline(this.local.stream(integrity), out))
      .catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
    return out;
  }

  async delete(integrity: Integrity): Promise<void> {
    assertIntegrity(integrity);
    try {
      await this.os.delete(integrity);
    } catch (err) {
      throw fromNatsError(err, `blob delete ${integrity}`, { integrity });
    }
    await this.local.delete(integrity);
    this.lastUsed.delete(integrity);
  }

  /** The golden copy's file (present once prefetched; placement falls back to `path()` otherwise). */
  localPathHint(integrity: Integrity): string {
    return this.local.localPathHint(integrity);
  }

  async path(integrity: Integrity): Promise<string | null> {
    try {
      await this.ensureLocal(integrity);
    } catch (err) {
      if (isWarrenError(err, 'E_NOT_FOUND')) return null;
      throw err;
    }
    return this.local.path(integrity);
  }

  async *list(): AsyncIterable<BlobInfo> {
    let infos;
    try {
      infos = await this.os.list();
    } catch (err) {
      throw fromNatsError(err, 'blob list');
    }
    for (const info of infos) {
      if (info.deleted || !/^sha256-[A-Za-z0-9+/]{43}=$/.test(info.name)) continue;
      yield { integrity: info.name, size: info.size, time: Date.parse(info.mtime) };
    }
  }

  /** Downloads and re-hashes every object of the cluster store. */
  async verify(): Promise<{ checked: number; corrupt: Integrity[] }> {
    let checked = 0;
    const corrupt: Integrity[] = [];
    for await (const blob of this.list()) {
      checked++;
      try {
        const hash = createHash('sha256');
        const res = await this.os.get(blob.integrity);
        if (!res) continue; // deleted since the listing
        const failed = streamFailure(res);
        for await (const chunk of res.data as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
        const e = await failed;
        if (e) throw e;
        if (`sha256-${hash.digest('base64')}` !== blob.integrity) corrupt.push(blob.integrity);
      } catch {
        corrupt.push(blob.integrity); // the client's own digest check failed, or chunks are missing
      }
    }
    return { checked, corrupt };
  }

  /**
   * The node cache's prefetch: fetches every listed blob the local store lacks, `concurrency` at
   * a time. All are tried; blobs the cluster lacks fail the call afterwards (E_NOT_FOUND).
   */
  async prefetch(integrities: Iterable<Integrity>, opts: { concurrency?: number } = {}): Promise<{ fetched: number; bytes: number }> {
    const unique = [...new Set(integrities)];
    for (const i of unique) assertIntegrity(i);
    let fetched = 0;
    let bytes = 0;
    const failures = await runAllBounded(unique, opts.concurrency ?? 8, async (integrity) => {
      const got = await this.ensureLocal(integrity);
      if (got >= 0) {
        fetched++;
        bytes += got;
      }
    });
    if (failures.length > 0) {
      const missing = failures.filter((f) => isWarrenError(f.error, 'E_NOT_FOUND')).map((f) => f.item);
      if (missing.length === failures.length) {
        throw new WarrenError('E_NOT_FOUND', `${missing.length} blob(s) are in neither the local nor the cluster store`, { missing, fetched, bytes });
      }
      throw failures.find((f) => !isWarrenError(f.error, 'E_NOT_FOUND'))!.error;
    }
    return { fetched, bytes };
  }

  /** Frees local copies not in `keep`, least recently used first, once past `budgetBytes`. */
  async evictLocal(opts: EvictLocalOptions): Promise<EvictLocalResult> {
    const result = await evictLocalBlobs(this.local, opts, this.lastUsed, (i) => this.has(i));
    for (const [i] of this.lastUsed) if (!opts.keep.has(i) && !(await this.local.has(i))) this.lastUsed.delete(i);
    return result;
  }

  async close(): Promise<void> {}

  /** Makes the cluster store hold a blob that is in the local store. */
  private async publish(integrity: Integrity): Promise<BlobInfo> {
    this.lastUsed.set(integrity, Date.now());
    try {
      if (!(await touchObject(this.js, this.jsm, this.bucket, integrity))) {
        const source = Readable.toWeb(createReadStream(contentPath(this.local.dir, integrity)));
        await this.os.put({ name: integrity }, source as unknown as ReadableStream<Uint8Array>);
      }
    } catch (err) {
      throw fromNatsError(err, `blob upload ${integrity}`, { integrity });
    }
    const info = await this.info(integrity);
    if (!info) throw new WarrenError('E_INTERNAL', `blob ${integrity} vanished from the cluster store after upload`, { integrity });
    return info;
  }

  /**
   * Fetches a blob into the local store unless it is there. Returns the bytes fetched, -1 when
   * it was already local. Concurrent calls for one blob share one download.
   */
  private async ensureLocal(integrity: Integrity): Promise<number> {
    assertIntegrity(integrity);
    this.lastUsed.set(integrity, Date.now());
    if (await this.local.has(integrity)) return -1;
    let pending = this.fetching.get(integrity);
    if (!pending) {
      pending = this.fetch(integrity).finally(() => this.fetching.delete(integrity));
      this.fetching.set(integrity, pending);
    }
    return pending;
  }

  private async fetch(integrity: Integrity): Promise<number> {
    let res;
    try {
      res = await this.os.get(integrity);
    } catch (err) {
      throw fromNatsError(err, `blob fetch ${integrity}`, { integrity });
    }
    if (!res) throw new WarrenError('E_NOT_FOUND', `blob ${integrity} not found`, { integrity });
    let got: BlobInfo;
    const failed = streamFailure(res);
    try {
      got = await this.local.putStream(res.data as unknown as AsyncIterable<Uint8Array>);
      const e = await failed;
      if (e) throw e;
    } catch (err) {
      throw new WarrenError('E_INTEGRITY', `fetching blob ${integrity} from the cluster store failed: ${String(err)}`, { integrity });
    }
    if (got.integrity !== integrity) {
      // The bytes are stored locally under their own (correct) name; nothing here points at them.
      throw new WarrenError('E_INTEGRITY', `the cluster store's ${integrity} holds bytes hashing to ${got.integrity}`, { integrity, actual: got.integrity });
    }
    return got.size;
  }
}

/**
 * The download's outcome: null, or what ended it early. `ObjectResult.error` rejects when the
 * chunk consumer fails; read it through this so that a rejection is never left unhandled when
 * the data stream already threw.
 */
function streamFailure(res: ObjectResult): Promise<unknown> {
  return res.error.then(
    (e) => e ?? null,
    (e: unknown) => e ?? new Error('object download failed'),
  );
}

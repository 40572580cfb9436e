import type { Readable } from 'node:stream';

/** An SRI integrity string such as `sha256-<base64>`. */
export type Integrity = string;

export interface BlobInfo {
  integrity: Integrity;
  size: number;
  /** Milliseconds since the epoch when the blob was last put into this store (a re-put bumps it; GC's grace period counts from it). */
  time: number;
}

/**
 * Bytes by digest. The only port that knows where blob bytes live. Blobs are immutable: putting
 * the same bytes twice is a no-op that returns the same integrity.
 */
export interface PutOptions {
  /**
   * fdatasync the bytes on this node before the blob gets its name (a snapshot the reply waits
   * on): the store syncs the file it writes, in the same pass, instead of a caller opening it
   * again. A store that keeps no local file ignores it.
   */
  durable?: boolean;
}

export interface Blobs {
  put(data: Uint8Array | string, opts?: PutOptions): Promise<BlobInfo>;
  /** Streams bytes in; resolves once the blob is stored. */
  putStream(source: Readable | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<BlobInfo>;
  get(integrity: Integrity): Promise<Buffer>;
  has(integrity: Integrity): Promise<boolean>;
  info(integrity: Integrity): Promise<BlobInfo | null>;
  stream(integrity: Integrity): Readable;
  delete(integrity: Integrity): Promise<void>;
  /** A local file holding the bytes, for hardlinking; null where the adapter has none. */
  path(integrity: Integrity): Promise<string | null>;
  /**
   * Where this node's store keeps (or would keep) the bytes, computed without any I/O and not
   * checked: placement tries a hardlink on it first and takes the checked `path()` only when
   * that fails. Absent where the adapter has no local files.
   */
  localPathHint?(integrity: Integrity): string;
  list(): AsyncIterable<BlobInfo>;
  /** Re-hashes every blob; returns the ones whose bytes no longer match their name. */
  verify(): Promise<{ checked: number; corrupt: Integrity[] }>;
  close(): Promise<void>;
}

/**
 * The node's own store, on its disk: the same object as `Ports.blobs` when embedded, the local
 * cache in front of the cluster's store otherwise. Its blobs are files whose place follows from
 * the digest.
 */
export interface LocalBlobs extends Blobs {
  localPathHint(integrity: Integrity): string;
}

export interface EvictLocalOptions {
  /** Blobs with a local root (placed workers, paused snapshots): never evicted. */
  keep: ReadonlySet<Integrity>;
  /** Evict until the local store holds at most this many bytes. */
  budgetBytes: number;
}

export interface EvictLocalResult {
  evicted: number;
  bytesFreed: number;
  /** Bytes left in the local store. */
  localBytes: number;
  /** Candidates left in place because the cluster store does not hold them (evicting would lose them). */
  skippedUnreplicated: number;
}

/** A cluster node's cache of the cluster store's blobs in its local store (none when embedded). */
export interface NodeCache {
  /** Fetches every listed blob the local store lacks, `concurrency` at a time. */
  prefetch(integrities: Iterable<Integrity>, opts?: { concurrency?: number }): Promise<{ fetched: number; bytes: number }>;
  /** Frees the local store down to a budget, never dropping what `keep` lists or what the cluster lacks. */
  evictLocal(opts: EvictLocalOptions): Promise<EvictLocalResult>;
}

import type { Readable } from 'node:stream';

/** An SRI integrity string such as `sha256-<base64>`. */
export type Integrity = string;

export interface BlobInfo {
  integrity: Integrity;
  size: number;
  /** Milliseconds since the epoch when this store first held the blob (GC grace period). */
  time: number;
}

/**
 * Bytes by digest. The only port that knows where blob bytes live. Blobs are immutable: putting
 * the same bytes twice is a no-op that returns the same integrity.
 */
export interface Blobs {
  put(data: Uint8Array | string): Promise<BlobInfo>;
  /** Streams bytes in; resolves once the blob is durable. */
  putStream(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo>;
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

/** A JSON value stored under a key. */
export type RegistryValue = unknown;

export interface RegistryEntry<T = RegistryValue> {
  key: string;
  value: T;
  /** Increases on every write of this key; the compare-and-set token. */
  revision: number;
}

/** One write of compareAndSetEach: `value` under `key` if the key is at revision `expected` (0 = absent). */
export interface RegistryWrite {
  key: string;
  value: RegistryValue;
  expected: number;
}

export type RegistryEvent =
  | { type: 'put'; key: string; value: RegistryValue; revision: number }
  | { type: 'delete'; key: string; revision: number };

/**
 * A key-value map with revisions. Keys are `/`-separated (`component/<fq>/<version>`).
 * Embedded: SQLite. Cluster: JetStream KV.
 */
export interface Registry {
  get<T = RegistryValue>(key: string): Promise<RegistryEntry<T> | null>;
  /** Unconditional write; returns the new revision. */
  put(key: string, value: RegistryValue): Promise<number>;
  /**
   * Writes only if the key's current revision is `expected` (0 = the key must not exist).
   * Throws WarrenError E_CONFLICT otherwise.
   */
  compareAndSet(key: string, value: RegistryValue, expected: number): Promise<number>;
  /**
   * compareAndSet of each write, in order, stopping at the first conflict (E_CONFLICT). The
   * embedded registry does them in one transaction (all or none, one fsync); JetStream KV has no
   * multi-key transaction, so there writes before a conflict or a crash stay: callers order them
   * so that a prefix is harmless (an immutable record before the pointer to it).
   */
  compareAndSetEach(writes: readonly RegistryWrite[]): Promise<number[]>;
  /** Deletes; with `expected`, only at that revision (E_CONFLICT otherwise). Missing keys are fine. */
  delete(key: string, expected?: number): Promise<void>;
  list<T = RegistryValue>(prefix: string): Promise<RegistryEntry<T>[]>;
  watch(prefix: string, onEvent: (event: RegistryEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

import type { Registry, RegistryEvent } from '../../ports/registry.js';
import { REGISTRY_PREFIX, type TokenRecord } from '../../records.js';

/** What the registry says about a token id: `missing` counts as revoked (records are the allow-list). */
export type TokenState = 'active' | 'revoked' | 'missing';

interface Entry {
  state: TokenState;
  at: number;
}

/**
 * Remembers, briefly, what the registry says about each token id, so a request does not pay a
 * registry read. A watch on `token/` applies revocations as they happen; the TTL bounds how long
 * a missed event (a cluster watch reconnecting) can keep a revoked token alive.
 */
export class RevocationCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every watch event: a lookup that raced an event does not cache its (maybe stale) answer. */
  private epoch = 0;
  private unwatch: (() => void) | null = null;

  private constructor(
    private readonly registry: Registry,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  static async open(registry: Registry, opts: { ttlMs?: number; maxEntries?: number } = {}): Promise<RevocationCache> {
    const cache = new RevocationCache(registry, opts.ttlMs ?? 5000, opts.maxEntries ?? 10_000);
    cache.unwatch = await registry.watch(REGISTRY_PREFIX.token, (event) => cache.apply(event));
    return cache;
  }

  async state(jti: string): Promise<TokenState> {
    const hit = this.entries.get(jti);
    const now = Date.now();
    if (hit && now - hit.at < this.ttlMs) return hit.state;
    const epoch = this.epoch;
    const entry = await this.registry.get<TokenRecord>(REGISTRY_PREFIX.token + jti);
    const state = stateOf(entry?.value);
    if (epoch === this.epoch) this.remember(jti, state, now);
    return state;
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.entries.clear();
  }

  private apply(event: RegistryEvent): void {
    this.epoch++;
    const jti = event.key.slice(REGISTRY_PREFIX.token.length);
    this.remember(jti, event.type === 'put' ? stateOf(event.value as TokenRecord) : 'missing', Date.now());
  }

  private remember(jti: string, state: TokenState, at: number): void {
    this.entries.delete(jti);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(jti, { state, at });
  }
}

function stateOf(record: TokenRecord | undefined | null): TokenState {
  if (!record) return 'missing';
  return record.revoked ? 'revoked' : 'active';
}

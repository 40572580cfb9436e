import { ownBytes } from './read-sections.js';

interface Entry {
  module: Promise<WebAssembly.Module>;
  /** Source bytes; 0 while loading. */
  bytes: number;
}

export interface ModuleCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  compiles: number;
  evictions: number;
}

/**
 * Compiled modules of this process, by key (an artifact digest, or digest + variant). One compile
 * per key: concurrent callers share the same promise. Least recently used entries go when the
 * sum of their source sizes passes `maxBytes` (compiled code is a few times the source, so the
 * source size is a fair proxy). A failed load or compile is not cached.
 */
export class ModuleCache {
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;
  private hits = 0;
  private compiles = 0;
  private evictions = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string, load: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
    const found = this.entries.get(key);
    if (found) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, found); // most recently used last
      return found.module;
    }
    const entry: Entry = { bytes: 0, module: Promise.resolve(undefined as unknown as WebAssembly.Module) };
    entry.module = (async () => {
      const source = await load();
      this.compiles++;
      const module = await WebAssembly.compile(ownBytes(source));
      if (this.entries.get(key) === entry) {
        entry.bytes = source.byteLength;
        this.totalBytes += entry.bytes;
        this.evict(key);
      }
      return module;
    })();
    entry.module.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    this.entries.set(key, entry);
    return entry.module;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  stats(): ModuleCacheStats {
    return { entries: this.entries.size, bytes: this.totalBytes, hits: this.hits, compiles: this.compiles, evictions: this.evictions };
  }

  /** Drops least recently used entries until within budget; `keep` (just added) goes last of all. */
  private evict(keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) return;
      if (key === keep || entry.bytes === 0) continue;
      this.delete(key);
      this.evictions++;
    }
    if (this.totalBytes > this.maxBytes) {
      // Larger than the whole budget: returned to its callers, not kept.
      this.delete(keep);
      this.evictions++;
    }
  }
}

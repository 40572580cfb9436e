import type { Registry } from '../../ports/registry.js';
import { REGISTRY_PREFIX, type ComponentVersionRecord } from '../../records.js';
import { getComponentVersion, listVersions } from './component-keys.js';

/** Entries older than this are listed again, whatever the watch said (it may have ended with a connection). */
const MAX_AGE_MS = 1000;
const MAX_COMPONENTS = 4096;

interface Entry {
  /** Sorted by semver, highest last. */
  versions: ComponentVersionRecord[];
  loadedAt: number;
}

/**
 * The version records of recently run components, so resolving `fq` (latest) or `fq@version`
 * for a job is a map lookup instead of a registry list (a SQLite query and JSON parse of every
 * version, or NATS KV round trips in a cluster). A registry watch on `component/` drops an
 * entry as soon as one of its versions is pushed or deleted, here or on another node; entries
 * also expire after a second, which bounds staleness if the watch ever stops (or the change
 * came from another process on the same SQLite file, which this process's watch does not see).
 */
export class ComponentVersionCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped per fq by the watch: a list that started before a change must not be stored. */
  private readonly generations = new Map<string, number>();
  private unwatch: (() => void) | null = null;

  constructor(private readonly registry: Registry) {}

  async start(): Promise<void> {
    this.unwatch = await this.registry.watch(REGISTRY_PREFIX.component, (event) => {
      const rest = event.key.slice(REGISTRY_PREFIX.component.length);
      const fq = rest.slice(0, rest.lastIndexOf('/'));
      this.entries.delete(fq);
      this.generations.set(fq, (this.generations.get(fq) ?? 0) + 1);
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.entries.clear();
  }

  /** As getComponentVersion (same errors), from the cache when it can. */
  async get(fq: string, version?: string): Promise<ComponentVersionRecord> {
    const entry = await this.load(fq);
    const hit = version === undefined ? entry.versions.at(-1) : entry.versions.find((r) => r.version === version);
    if (hit) return hit;
    // Unknown here: ask the registry itself, which also builds the E_NOT_FOUND message.
    return getComponentVersion(this.registry, fq, version);
  }

  private async load(fq: string): Promise<Entry> {
    const cached = this.entries.get(fq);
    const now = Date.now();
    if (cached && now - cached.loadedAt < MAX_AGE_MS) return cached;
    const generation = this.generations.get(fq) ?? 0;
    const entry = { versions: await listVersions(this.registry, fq), loadedAt: now };
    if (this.unwatch !== null && (this.generations.get(fq) ?? 0) === generation && entry.versions.length > 0) {
      if (this.entries.size >= MAX_COMPONENTS) this.entries.clear();
      this.entries.set(fq, entry);
    }
    return entry;
  }
}

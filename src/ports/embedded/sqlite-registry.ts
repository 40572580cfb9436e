import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { WarrenError } from '../../errors.js';
import type { Registry, RegistryEntry, RegistryEvent, RegistryValue, RegistryWrite } from '../registry.js';

/**
 * The embedded registry: one SQLite table `kv(key, value, revision)` in `<data>/registry.db`,
 * WAL mode, synchronous=FULL so an acknowledged write survives a kill -9 or power loss.
 * Revisions come from one counter table so they increase across keys, like JetStream KV's.
 */
export class SqliteRegistry implements Registry {
  private readonly db: Database.Database;
  private readonly watchers = new Set<{ prefix: string; onEvent: (e: RegistryEvent) => void }>();
  private readonly stmts;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, revision INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS kv_seq (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);
      INSERT OR IGNORE INTO kv_seq (id, rev) VALUES (1, 0);
    `);
    this.stmts = {
      get: this.db.prepare<[string], { value: string; revision: number }>('SELECT value, revision FROM kv WHERE key = ?'),
      next: this.db.prepare<[], { rev: number }>('UPDATE kv_seq SET rev = rev + 1 WHERE id = 1 RETURNING rev'),
      upsert: this.db.prepare('INSERT INTO kv (key, value, revision) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision'),
      del: this.db.prepare('DELETE FROM kv WHERE key = ?'),
      list: this.db.prepare<[string, string], { key: string; value: string; revision: number }>(
        'SELECT key, value, revision FROM kv WHERE key >= ? AND key < ? ORDER BY key',
      ),
    };
  }

  async get<T = RegistryValue>(key: string): Promise<RegistryEntry<T> | null> {
    const row = this.stmts.get.get(key);
    return row ? { key, value: JSON.parse(row.value) as T, revision: row.revision } : null;
  }

  async put(key: string, value: RegistryValue): Promise<number> {
    const revision = this.db.transaction(() => this.write(key, value))();
    this.emit({ type: 'put', key, value, revision });
    return revision;
  }

  async compareAndSet(key: string, value: RegistryValue, expected: number): Promise<number> {
    return (await this.compareAndSetEach([{ key, value, expected }]))[0]!;
  }

  async compareAndSetEach(writes: readonly RegistryWrite[]): Promise<number[]> {
    const revisions = this.db.transaction(() =>
      writes.map(({ key, value, expected }) => {
        const current = this.stmts.get.get(key)?.revision ?? 0;
        if (current !== expected) {
          throw new WarrenError('E_CONFLICT', `registry key ${key} is at revision ${current}, expected ${expected}`, { key, current, expected });
        }
        return this.write(key, value);
      }),
    ).immediate();
    writes.forEach(({ key, value }, i) => this.emit({ type: 'put', key, value, revision: revisions[i]! }));
    return revisions;
  }

  async delete(key: string, expected?: number): Promise<void> {
    const revision = this.db.transaction(() => {
      const current = this.stmts.get.get(key)?.revision ?? 0;
      if (expected !== undefined && current !== expected) {
        throw new WarrenError('E_CONFLICT', `registry key ${key} is at revision ${current}, expected ${expected}`, { key, current, expected });
      }
      if (current === 0) return 0;
      this.stmts.del.run(key);
      return this.stmts.next.get()!.rev;
    }).immediate();
    if (revision) this.emit({ type: 'delete', key, revision });
  }

  async list<T = RegistryValue>(prefix: string): Promise<RegistryEntry<T>[]> {
    return this.stmts.list.all(prefix, prefix + '\uffff').map((r) => ({ key: r.key, value: JSON.parse(r.value) as T, revision: r.revision }));
  }

  async watch(prefix: string, onEvent: (event: RegistryEvent) => void): Promise<() => void> {
    const w = { prefix, onEvent };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  async close(): Promise<void> {
    this.watchers.clear();
    if (this.db.open) this.db.close();
  }

  private write(key: string, value: RegistryValue): number {
    const revision = this.stmts.next.get()!.rev;
    this.stmts.upsert.run(key, JSON.stringify(value), revision);
    return revision;
  }

  private emit(event: RegistryEvent): void {
    for (const w of this.watchers) if (event.key.startsWith(w.prefix)) w.onEvent(event);
  }
}

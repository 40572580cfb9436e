import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { E, Errno } from './abi.js';
import type { ReadOnlySet } from './read-only-set.js';

/**
 * Bytes of regular files under read-write mounts, counted once per inode. Read-only files are
 * left out: they are hardlinks of store blobs shared by every worker, not this guest's usage.
 */
export class DiskQuota {
  exceeded = false;

  constructor(readonly limit: number, public used: number) {}

  static measure(hostDirs: string[], readOnly: ReadOnlySet): number {
    const seen = new Set<string>();
    let total = 0;
    const walk = (dir: string): void => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(dir, n);
        const st = lstatSync(p, { throwIfNoEntry: false });
        if (!st) continue;
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) {
          const id = `${st.dev}:${st.ino}`;
          if (seen.has(id) || readOnly.hasId(st.dev, st.ino)) continue;
          seen.add(id);
          total += st.size;
        }
      }
    };
    for (const d of hostDirs) walk(d);
    return total;
  }

  /** Accounts for `delta` more bytes, or refuses with ENOSPC and remembers that it did. */
  grow(delta: number): void {
    if (delta <= 0) {
      this.used = Math.max(0, this.used + delta);
      return;
    }
    if (this.used + delta > this.limit) {
      this.exceeded = true;
      throw new Errno(E.NOSPC);
    }
    this.used += delta;
  }
}

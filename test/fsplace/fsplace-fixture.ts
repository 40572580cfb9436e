import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import type { FileTree, FileTreeEntry } from '../../src/records.js';
import { makeTempDir } from '../support/temp-dir.js';

export interface Fixture {
  dir: string;
  blobs: DiskBlobs;
  dispose: () => void;
  /** Puts each file's text into the store and returns the tree (sorted). */
  tree: (files: Record<string, { text: string; mode: 'ro' | 'rw' }>) => Promise<FileTree>;
}

export async function makeFixture(): Promise<Fixture> {
  const temp = makeTempDir('warren-fsplace-');
  const blobs = new DiskBlobs(join(temp.path, 'blobs'));
  return {
    dir: temp.path,
    blobs,
    dispose: temp.dispose,
    tree: async (files) => {
      const entries: FileTreeEntry[] = [];
      for (const [path, { text, mode }] of Object.entries(files)) {
        const info = await blobs.put(text);
        entries.push({ path, digest: info.integrity, mode, size: info.size });
      }
      entries.sort((a, b) => (a.path < b.path ? -1 : 1));
      return { version: 1, entries };
    },
  };
}

/** Everything under a root: `path → 'dir' | 'link:<target>' | <file text>`. */
export function rootState(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (host: string, guest: string): void => {
    for (const name of readdirSync(host).sort()) {
      const h = join(host, name);
      const g = `${guest}/${name}`;
      const st = lstatSync(h);
      if (st.isDirectory()) {
        out[g] = 'dir';
        walk(h, g);
      } else if (st.isSymbolicLink()) out[g] = `link:${readlinkSync(h)}`;
      else out[g] = readFileSync(h, 'utf8');
    }
  };
  walk(root, '');
  return out;
}

/** `rootState` keeping files only. */
export function rootFiles(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(rootState(root)).filter(([, v]) => v !== 'dir'));
}

export function inoOf(path: string): number {
  return lstatSync(path).ino;
}

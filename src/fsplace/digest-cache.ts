import { readFile, rename, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Integrity } from '../ports/blobs.js';

/**
 * Remembers the digest of each writable file by what its inode says about it, so a snapshot of an
 * unchanged file reads no byte. ctime is in the key because a guest can set mtime but not ctime.
 */
export interface DigestCacheEntry {
  key: string;
  digest: Integrity;
  size: number;
}

interface DigestCacheFile {
  version: 1;
  entries: Record<string, DigestCacheEntry>;
}

/**
 * File timestamps come from a coarse clock (one tick is a few ms): a file written again within the
 * tick of the stat that cached it would keep its key. Like git's "racily clean" rule, a file
 * changed less than this before we looked is never cached, only hashed.
 */
export const RACY_WINDOW_MS = 100;

export function digestCachePathOf(root: string): string {
  const r = resolve(root);
  return join(dirname(r), `.${basename(r)}.digest-cache.json`);
}

export function cacheKeyOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** True when `st` is old enough for its key to be trusted later. */
export function isCacheable(st: BigIntStats, nowMs = Date.now()): boolean {
  return st.ctimeNs < BigInt(nowMs - RACY_WINDOW_MS) * 1_000_000n && st.mtimeNs < BigInt(nowMs - RACY_WINDOW_MS) * 1_000_000n;
}

export async function readDigestCache(root: string): Promise<Map<string, DigestCacheEntry>> {
  try {
    const parsed = JSON.parse(await readFile(digestCachePathOf(root), 'utf8')) as DigestCacheFile;
    if (parsed.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) return new Map();
    return new Map(Object.entries(parsed.entries));
  } catch {
    // Missing or torn: the cache only saves work, so start over.
    return new Map();
  }
}

export async function writeDigestCache(root: string, entries: ReadonlyMap<string, DigestCacheEntry>): Promise<void> {
  const path = digestCachePathOf(root);
  const tmp = `${path}.${process.pid}.tmp`;
  const data: DigestCacheFile = { version: 1, entries: Object.fromEntries(entries) };
  await writeFile(tmp, JSON.stringify(data));
  await rename(tmp, path);
}

import { lstat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { hostPathOf } from './guest-path.js';
import { errorCode } from './place-blob-file.js';
import { runBounded } from './run-bounded.js';

/** `dev:ino`: what a file is, whatever it is called (the read-only set is keyed by this). */
export function fileIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * The identities of the read-only files placed at `readOnlyPaths`. Any other name for the same
 * inode (a guest hardlink) is then read-only too. Missing paths are skipped.
 */
export async function readOnlyIdentities(root: string, readOnlyPaths: readonly string[]): Promise<Set<string>> {
  const identities = new Set<string>();
  await runBounded(readOnlyPaths, 32, async (path) => {
    try {
      const st = await lstat(hostPathOf(root, path), { bigint: true });
      if (st.isFile()) identities.add(fileIdentity(st));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENOTDIR') throw err;
    }
  });
  return identities;
}

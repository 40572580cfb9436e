import { rm } from 'node:fs/promises';
import type { DataLayout } from '../config.js';

/**
 * Empties `<data>/staging` as the node starts: what is there was left by a previous process that
 * died mid-read or mid-push (`read-w_…`, `push-…`), and nothing of this process uses it yet.
 * Safe because the data dir lock is held: no other live node shares the directory.
 */
export async function cleanStaging(layout: DataLayout): Promise<void> {
  await rm(layout.staging, { recursive: true, force: true });
}

import { rm } from 'node:fs/promises';
import type { DataLayout } from '../config.js';

/**
 * Empties `<data>/staging` and `<data>/jobs` as the node starts: what is there was left by a
 * previous process that died mid-read, mid-push or mid-job (`read-w_…`, `push-…`, a job's scratch
 * root), and nothing of this process uses it yet. Safe because the data dir lock is held: no
 * other live node shares the directory.
 */
export async function cleanStaging(layout: DataLayout): Promise<void> {
  await rm(layout.staging, { recursive: true, force: true });
  await rm(layout.jobs, { recursive: true, force: true });
}

import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { Registry } from '../../ports/registry.js';
import { markRoots } from './mark-roots.js';

export interface VerifyStoreResult {
  /** Registry records looked at. */
  records: number;
  /** Blobs re-hashed. */
  blobsChecked: number;
  /** Blobs a live record names that the store lacks (or, for trees and page maps, cannot parse). */
  missing: { key: string; integrity: Integrity }[];
  /** Blobs whose bytes no longer match their digest. */
  corrupt: Integrity[];
}

/** `warren admin verify`: every live record's blobs exist, every blob's bytes match its name. Changes nothing. */
export async function verifyStore(input: { blobs: Blobs; registry: Registry }): Promise<VerifyStoreResult> {
  const { blobs, registry } = input;
  // Every map counts as live here: verify reports, it does not judge engine ids or ages.
  const roots = await markRoots({ blobs, registry, engineId: null, graceMs: Number.POSITIVE_INFINITY, now: Date.now() });
  const missing: VerifyStoreResult['missing'] = [...roots.unreadable];
  for (const [integrity, key] of roots.marked) {
    if (!(await blobs.has(integrity)) && !missing.some((m) => m.integrity === integrity)) missing.push({ key, integrity });
  }
  const { checked, corrupt } = await blobs.verify();
  return { records: roots.records, blobsChecked: checked, missing, corrupt };
}

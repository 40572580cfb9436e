import { isWarrenError } from '../../errors.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { Registry } from '../../ports/registry.js';
import { markRoots } from './mark-roots.js';

export interface CollectGarbageInput {
  blobs: Blobs;
  registry: Registry;
  /** The running engine id: artifact maps of any other engine are collected. */
  engineId: string;
  /** Blobs (and records) younger than this are kept even when unreachable: a push or snapshot may be writing them. */
  graceMs?: number;
  dryRun?: boolean;
  now?: number;
}

export interface CollectGarbageResult {
  /** Blobs kept (reachable, or within the grace period). */
  kept: number;
  swept: { integrity: Integrity; size: number }[];
  sweptBytes: number;
  /** Registry keys removed (or that would be, in a dry run). */
  sweptRecords: string[];
  /** `<record key>: <integrity>` for every blob a live record names that the store lacks. */
  missing: string[];
  dryRun: boolean;
}

export const DEFAULT_GRACE_MS = 10 * 60 * 1000;

/**
 * Mark and sweep. Mark first, list blobs after: a blob written after the mark is young, so the
 * grace period keeps it until its record exists. Dead records go before blobs, each by
 * compare-and-set on the revision seen at mark time, so a record rewritten meanwhile survives.
 */
export async function collectGarbage(input: CollectGarbageInput): Promise<CollectGarbageResult> {
  const graceMs = input.graceMs ?? DEFAULT_GRACE_MS;
  const now = input.now ?? Date.now();
  const dryRun = Boolean(input.dryRun);
  const { blobs, registry } = input;
  const roots = await markRoots({ blobs, registry, engineId: input.engineId, graceMs, now });

  const sweptRecords: string[] = [];
  for (const { key, revision } of roots.deadRecords) {
    if (dryRun) {
      sweptRecords.push(key);
      continue;
    }
    try {
      await registry.delete(key, revision);
      sweptRecords.push(key);
    } catch (err) {
      if (!isWarrenError(err, 'E_CONFLICT')) throw err;
    }
  }

  const present = new Set<Integrity>();
  const swept: CollectGarbageResult['swept'] = [];
  let kept = 0;
  for await (const blob of blobs.list()) {
    present.add(blob.integrity);
    if (roots.marked.has(blob.integrity) || blob.time > now - graceMs) {
      kept++;
      continue;
    }
    if (!dryRun) await blobs.delete(blob.integrity);
    swept.push({ integrity: blob.integrity, size: blob.size });
  }

  const missing = [...roots.marked].filter(([integrity]) => !present.has(integrity)).map(([integrity, key]) => `${key}: ${integrity}`);
  for (const u of roots.unreadable) {
    const line = `${u.key}: ${u.integrity}`;
    if (!missing.includes(line)) missing.push(line);
  }
  return { kept, swept, sweptBytes: swept.reduce((n, s) => n + s.size, 0), sweptRecords, missing, dryRun };
}

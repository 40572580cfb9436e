import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { Registry } from '../../ports/registry.js';
import type { PageMap } from '../../records.js';
import { PAGE_SIZE } from '../../runtime/memory-pages.js';
import { createHash } from 'node:crypto';
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
  /** Pages a live page map places in a pack where the pack's bytes do not hash to the page's digest (or end before). */
  badPages: { key: string; pack: Integrity; page: number }[];
  /** Pages checked in packs. */
  pagesChecked: number;
}

/** `warren admin verify`: every live record's blobs exist, every blob's bytes match its name, every page of a pack matches its map. Changes nothing. */
export async function verifyStore(input: { blobs: Blobs; registry: Registry }): Promise<VerifyStoreResult> {
  const { blobs, registry } = input;
  // Every map counts as live here: verify reports, it does not judge engine ids or ages.
  const roots = await markRoots({ blobs, registry, engineId: null, graceMs: Number.POSITIVE_INFINITY, now: Date.now() });
  const missing: VerifyStoreResult['missing'] = [...roots.unreadable];
  for (const [integrity, key] of roots.marked) {
    if (!(await blobs.has(integrity)) && !missing.some((m) => m.integrity === integrity)) missing.push({ key, integrity });
  }
  const { checked, corrupt } = await blobs.verify();
  const { badPages, pagesChecked } = await verifyPacks(blobs, roots.pageMaps, new Set(missing.map((m) => m.integrity)));
  return { records: roots.records, blobsChecked: checked, missing, corrupt, badPages, pagesChecked };
}

/** Every page of every pack a live map uses hashes to the digest the map gives it. Each pack is read once. */
async function verifyPacks(blobs: Blobs, maps: { key: string; map: PageMap }[], missing: ReadonlySet<Integrity>): Promise<{ badPages: VerifyStoreResult['badPages']; pagesChecked: number }> {
  const wanted = new Map<Integrity, { key: string; page: number; slot: number; digest: string }[]>();
  for (const { key, map } of maps) {
    for (const [page, loc] of Object.entries(map.at ?? {})) {
      const pack = map.packs![loc[0]];
      if (!pack || missing.has(pack)) continue;
      let list = wanted.get(pack);
      if (!list) wanted.set(pack, (list = []));
      list.push({ key, page: Number(page), slot: loc[1], digest: map.digests[page]! });
    }
  }
  const badPages: VerifyStoreResult['badPages'] = [];
  let pagesChecked = 0;
  for (const [pack, list] of wanted) {
    const bytes = await blobs.get(pack).catch(() => null);
    const seen = new Map<number, string>();
    for (const w of list) {
      pagesChecked++;
      let digest = seen.get(w.slot);
      if (digest === undefined && bytes && (w.slot + 1) * PAGE_SIZE <= bytes.length) {
        digest = `sha256-${createHash('sha256').update(bytes.subarray(w.slot * PAGE_SIZE, (w.slot + 1) * PAGE_SIZE)).digest('base64')}`;
        seen.set(w.slot, digest);
      }
      if (digest !== w.digest) badPages.push({ key: w.key, pack, page: w.page });
    }
  }
  return { badPages, pagesChecked };
}

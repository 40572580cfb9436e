import { open } from 'node:fs/promises';
import { WarrenError } from '../../errors.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { PageMap } from '../../records.js';
import { PAGE_SIZE } from '../../runtime/memory-pages.js';

/**
 * A chain of snapshots diffed one against the other points into more and more packs; past this
 * many, the next snapshot writes every page into one new pack (compaction), so a resume never
 * opens more than MAX_PACKS files, read front to back.
 */
export const MAX_PACKS = 8;

export interface PageScanResult {
  pages: number;
  digests: Record<string, string>;
  /** Indexes of the pages in `changedBytes`, in order. */
  changed: number[];
  changedBytes: Uint8Array;
}

export interface WritePageMapInput {
  target: Blobs;
  scan: PageScanResult;
  /**
   * The page map the scan was diffed against, whose packs are in `target` (GC keeps every
   * snapshot of a live worker): the pages the scan did not send are found there. null when the
   * scan sent every page.
   */
  base: PageMap | null;
  /** fsync the pack before the map is written (commits: durable before they are acknowledged). */
  durable?: boolean;
}

export type WrittenPageMap =
  | {
      ok: true;
      /** Digest of the PageMap blob. */
      digest: Integrity;
      pageMap: PageMap;
      /** Bytes of the new pack (0 when no page changed). */
      bytesWritten: number;
      /** Pages in the new pack (identical pages once). */
      pagesWritten: number;
    }
  /** The base cannot give the unsent pages (a map from before packs), or the chain is long: scan again without a base. */
  | { ok: false; why: 'base-unusable' | 'compact' };

/**
 * Stores a memory snapshot as one pack: the changed pages, each distinct page once, one after
 * another in one blob (one write, one rename), then the PageMap blob saying where every page
 * lies: in the new pack, or where the base had it (unchanged pages, and changed pages whose bytes
 * the base holds at another index). Blobs only; the snapshot record comes after, elsewhere.
 */
export async function writePageMap(input: WritePageMapInput): Promise<WrittenPageMap> {
  const { target, scan, base } = input;
  const packs: Integrity[] = [];
  const packNumber = new Map<Integrity, number>();
  const refer = (pack: Integrity) => {
    let n = packNumber.get(pack);
    if (n === undefined) {
      n = packs.length;
      packs.push(pack);
      packNumber.set(pack, n);
    }
    return n;
  };
  const at: Record<string, [number, number]> = {};
  const sent = new Set(scan.changed);
  for (const key of Object.keys(scan.digests)) {
    if (sent.has(Number(key))) continue;
    const loc = base?.at?.[key];
    if (!base?.packs || !loc || base.digests[key] !== scan.digests[key]) return { ok: false, why: 'base-unusable' };
    at[key] = [refer(base.packs[loc[0]]!), loc[1]];
  }
  // Bytes the base already holds, by digest: a page moved or copied within memory is not stored again.
  const inBase = new Map<string, [Integrity, number]>();
  if (base?.packs && base.at) {
    for (const [key, loc] of Object.entries(base.at)) inBase.set(base.digests[key]!, [base.packs[loc[0]]!, loc[1]]);
  }
  const slotOf = new Map<string, number>();
  const fresh: number[] = [];
  const pending: [string, number][] = [];
  scan.changed.forEach((index, k) => {
    const digest = scan.digests[index];
    if (!digest) throw new WarrenError('E_INTERNAL', `page ${index} was sent without a digest`);
    const old = inBase.get(digest);
    if (old && !slotOf.has(digest)) {
      at[index] = [refer(old[0]), old[1]];
      return;
    }
    let slot = slotOf.get(digest);
    if (slot === undefined) {
      slot = fresh.length;
      slotOf.set(digest, slot);
      fresh.push(k);
    }
    pending.push([String(index), slot]);
  });
  if (packs.length + (fresh.length > 0 ? 1 : 0) > MAX_PACKS) return { ok: false, why: 'compact' };

  let bytesWritten = 0;
  if (fresh.length > 0) {
    const whole = fresh.length === scan.changed.length;
    const bytes = whole ? scan.changedBytes : gather(scan.changedBytes, fresh);
    const info = await target.put(bytes);
    if (input.durable) await syncBlob(target, info.integrity);
    const n = refer(info.integrity);
    for (const [key, slot] of pending) at[key] = [n, slot];
    bytesWritten = info.size;
  }
  const pageMap: PageMap = { pageSize: PAGE_SIZE, pages: scan.pages, digests: { ...scan.digests }, packs, at };
  const info = await target.put(JSON.stringify(pageMap));
  return { ok: true, digest: info.integrity, pageMap, bytesWritten, pagesWritten: fresh.length };
}

function gather(changedBytes: Uint8Array, ks: readonly number[]): Uint8Array {
  const out = new Uint8Array(ks.length * PAGE_SIZE);
  ks.forEach((k, slot) => out.set(changedBytes.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE), slot * PAGE_SIZE));
  return out;
}

/** fdatasync of the store's file for a blob, where the store keeps one on this node. */
async function syncBlob(target: Blobs, integrity: Integrity): Promise<void> {
  const path = await target.path(integrity);
  if (!path) return;
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

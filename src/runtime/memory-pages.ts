import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

export const PAGE_SIZE = 65536;

export interface PageScan {
  /** Number of 64 KiB pages of linear memory. */
  pages: number;
  /** page index → sha256 integrity; zero pages are absent. */
  digests: Record<string, string>;
  /** Indexes of the pages whose digest differs from the base, in `slots` order. */
  changed: number[];
  /**
   * For each changed page, its slot in the new pack, or -1 when its bytes are in the base already
   * (at another index) or earlier in this pack (then the slot of the first copy is given).
   */
  slots: number[];
  /** Pages written into the new pack (each distinct page once). */
  packPages: number;
  /** Non-zero pages whose digest was computed (the others were equal to the shadow, or zero). */
  hashed: number;
}

/** Pages of a pack go out in chunks of this many, so the store writes (and hashes) while the scan goes on. */
export const PACK_CHUNK_PAGES = 64;

/**
 * A copy of linear memory as the last snapshot scan saw it, with that scan's digests, named by
 * `tag` (the snapshot it was taken for). A scan against the same base compares each page with
 * its copy (memcmp, far cheaper than sha256) and hashes only the pages that differ. It costs the
 * memory's size again, so only instances that are snapshotted while they live keep one.
 */
export interface MemoryShadow {
  tag: string;
  bytes: Uint8Array;
  digests: Record<string, string>;
}

/**
 * Cuts linear memory into 64 KiB pages, gives the digest of each non-zero one, and streams the
 * pack of this snapshot through `emit`: every page that differs from the base and whose bytes
 * neither the base nor this pack holds yet, in chunks of PACK_CHUNK_PAGES (each chunk's buffer is
 * the caller's to keep: transferred, not copied). wasm has no dirty bits: without a shadow every
 * page is hashed; with a shadow of the base (same tag), a page equal to its shadow copy keeps the
 * base's digest unhashed. With `shadow`, the scan also returns `nextShadow`: a function that
 * brings the shadow up to this scan (`nextTag`), to be called while memory is still as scanned;
 * copying memory is a third of a first snapshot's work, so the caller runs it after its reply.
 */
export function scanPages(
  memory: WebAssembly.Memory,
  base: Readonly<Record<string, string>> | null,
  emit: (chunk: Uint8Array<ArrayBuffer>) => void,
): PageScan;
export function scanPages(
  memory: WebAssembly.Memory,
  base: Readonly<Record<string, string>> | null,
  emit: (chunk: Uint8Array<ArrayBuffer>) => void,
  shadow: { current: MemoryShadow | null; baseTag: string | null; nextTag: string },
): PageScan & { nextShadow: () => MemoryShadow };
export function scanPages(
  memory: WebAssembly.Memory,
  base: Readonly<Record<string, string>> | null,
  emit: (chunk: Uint8Array<ArrayBuffer>) => void,
  shadow?: { current: MemoryShadow | null; baseTag: string | null; nextTag: string },
): PageScan & { nextShadow?: () => MemoryShadow } {
  const bytes = new Uint8Array(memory.buffer);
  const pages = bytes.byteLength / PAGE_SIZE;
  const digests: Record<string, string> = {};
  const changed: number[] = [];
  const slots: number[] = [];
  const inBase = new Set(base ? Object.values(base) : []);
  const slotOf = new Map<string, number>();
  let chunk = newChunk();
  let inChunk = 0;
  const old = shadow?.current && base && shadow.baseTag !== null && shadow.current.tag === shadow.baseTag ? shadow.current : null;
  const oldPages = old ? old.bytes.byteLength / PAGE_SIZE : 0;
  /** Pages that did not compare equal to the old shadow (all of them without one). */
  const differing: number[] = [];
  let hashed = 0;
  for (let i = 0; i < pages; i++) {
    const page = bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
    if (old && i < oldPages && Buffer.compare(page, old.bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)) === 0) {
      const known = old.digests[i];
      if (known !== undefined) digests[i] = known;
      continue;
    }
    differing.push(i);
    if (isZeroPage(page)) continue;
    const digest = `sha256-${createHash('sha256').update(page).digest('base64')}`;
    hashed++;
    digests[i] = digest;
    if (base?.[i] === digest) continue;
    changed.push(i);
    const seen = slotOf.get(digest);
    if (seen !== undefined) {
      slots.push(seen);
      continue;
    }
    if (inBase.has(digest)) {
      slots.push(-1);
      continue;
    }
    const slot = slotOf.size;
    slotOf.set(digest, slot);
    slots.push(slot);
    chunk.set(page, inChunk * PAGE_SIZE);
    if (++inChunk === PACK_CHUNK_PAGES) {
      emit(chunk);
      chunk = newChunk();
      inChunk = 0;
    }
  }
  if (inChunk > 0) emit(chunk.subarray(0, inChunk * PAGE_SIZE));
  const scan: PageScan = { pages, digests, changed, slots, packPages: slotOf.size, hashed };
  if (!shadow) return scan;
  const nextTag = shadow.nextTag;
  const nextShadow = (): MemoryShadow => {
    // The old copy already holds every page that compared equal: only the others are copied.
    const now = new Uint8Array(memory.buffer);
    if (now.byteLength !== bytes.byteLength) throw new Error('memory grew after its scan: the shadow would not match it');
    const copy = old && old.bytes.byteLength === now.byteLength ? old.bytes : new Uint8Array(now.byteLength);
    if (copy === old?.bytes) for (const i of differing) copy.set(now.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), i * PAGE_SIZE);
    else copy.set(now);
    return { tag: nextTag, bytes: copy, digests };
  };
  return { ...scan, nextShadow };
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** memcmp against a zero page (much faster than a loop over its words); most of a large memory is often zero. */
export function isZeroPage(page: Uint8Array): boolean {
  return page.byteLength === PAGE_SIZE ? Buffer.compare(page, ZERO_PAGE) === 0 : page.every((b) => b === 0);
}

/**
 * A pack chunk's buffer, not zeroed (every byte sent is a page's copy; the last chunk goes as a
 * view of the pages it holds): zeroing 4 MiB per chunk cost more than the copies into it.
 */
function newChunk(): Uint8Array<ArrayBuffer> {
  const b = Buffer.allocUnsafeSlow(PACK_CHUNK_PAGES * PAGE_SIZE);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Grows memory to `pages` and zeroes it: pages the fresh instance already had (its data segments)
 * are cleared, pages grown now are zero already. A restore then writes the snapshot's pages.
 */
function resetMemory(memory: WebAssembly.Memory, pages: number): void {
  const current = memory.buffer.byteLength / PAGE_SIZE;
  if (pages < current) throw new Error(`snapshot has ${pages} pages, fewer than the module's initial ${current}`);
  if (pages > current) memory.grow(pages - current);
  new Uint8Array(memory.buffer).fill(0, 0, current * PAGE_SIZE);
}

export interface PackPlacement {
  /** The local file of each pack. */
  packFiles: readonly string[];
  /** Pages sorted by pack, then slot: page index, its pack, its slot in the pack. */
  indexes: readonly number[];
  packOf: readonly number[];
  slotOf: readonly number[];
}

/**
 * Restores memory from packs, reading pages straight into linear memory (no buffer in between), each pack once, front to back: pages in consecutive slots that go to consecutive
 * indexes are one read (a first snapshot's pack is one run). Runs in the guest thread, where
 * blocking reads are fine. A missing or short pack throws.
 */
export function restorePacks(memory: WebAssembly.Memory, pages: number, placed: PackPlacement): void {
  const { packFiles, indexes, packOf, slotOf } = placed;
  if (packOf.length !== indexes.length || slotOf.length !== indexes.length) throw new Error('pack placement lists differ in length');
  resetMemory(memory, pages);
  const bytes = new Uint8Array(memory.buffer);
  let fd = -1;
  let fdPack = -1;
  try {
    for (let k = 0; k < indexes.length; ) {
      const pack = packOf[k]!;
      const index = indexes[k]!;
      if (!Number.isInteger(index) || index < 0 || index >= pages) throw new Error(`page index ${index} out of range`);
      if (pack < 0 || pack >= packFiles.length) throw new Error(`pack ${pack} out of range`);
      let run = 1;
      while (k + run < indexes.length && packOf[k + run] === pack && slotOf[k + run] === slotOf[k]! + run && indexes[k + run] === index + run && index + run < pages) run++;
      if (pack !== fdPack) {
        if (fd >= 0) closeSync(fd);
        fd = -1;
        fd = openSync(packFiles[pack]!, 'r');
        fdPack = pack;
      }
      const want = run * PAGE_SIZE;
      const at = slotOf[k]! * PAGE_SIZE;
      let got = 0;
      while (got < want) {
        const n = readSync(fd, bytes, index * PAGE_SIZE + got, want - got, at + got);
        if (n === 0) break;
        got += n;
      }
      if (got !== want) throw new Error(`pack ${packFiles[pack]} ends before slot ${slotOf[k]! + Math.floor(got / PAGE_SIZE)}`);
      k += run;
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

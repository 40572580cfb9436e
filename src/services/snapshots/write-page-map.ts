import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { WarrenError } from '../../errors.js';
import type { BlobInfo, Blobs, Integrity } from '../../ports/blobs.js';
import type { PageMap } from '../../records.js';
import { PACK_CHUNK_PAGES, PAGE_SIZE, type PageScan } from '../../runtime/memory-pages.js';

/**
 * A chain of snapshots diffed one against the other points into more and more packs; a base
 * already at this many is not diffed against: the snapshot writes every page into one new pack
 * (compaction), so a resume never opens more than MAX_PACKS files, read front to back.
 */
export const MAX_PACKS = 8;

/** True when a snapshot may be diffed against `base`: it has packs, and one more keeps the chain within MAX_PACKS. */
export function usableBase(base: PageMap | null | undefined): base is PageMap {
  return Boolean(base?.packs && base.at && base.packs.length < MAX_PACKS);
}

/** A pack's blob as the page map names it; `stored` settles once the store holds it (fdatasynced when durable). */
export interface PackInfo {
  integrity: Integrity;
  size: number;
  stored: Promise<void>;
}

/** Packs up to this size (one chunk of the scan) go to the store as one buffer: the few pages of an `on_call` snapshot need no stream. */
const SMALL_PACK_BYTES = PACK_CHUNK_PAGES * PAGE_SIZE;

/**
 * Stores a pack as its chunks arrive from the guest thread's scan: past its first chunk the store
 * hashes and writes while the scan goes on (two cores, one pass each); a pack of one chunk is
 * put whole. `durable` (commits): the store fdatasyncs the pack as it writes it. Nothing is put
 * when no chunk comes.
 */
export class PackWriter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private stream: PassThrough | null = null;
  private stored: Promise<BlobInfo> | null = null;

  constructor(
    private readonly target: Blobs,
    private readonly durable: boolean,
  ) {}

  readonly push = (chunk: Uint8Array): void => {
    if (this.stream) {
      this.stream.write(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.buffered <= SMALL_PACK_BYTES) return;
    this.stream = new PassThrough();
    this.stored = this.target.putStream(this.stream, { durable: this.durable });
    // Awaited in finish(); until then a failure must not be an unhandled rejection.
    this.stored.catch(() => undefined);
    for (const c of this.chunks) this.stream.write(c);
    this.chunks = [];
  };

  /**
   * The pack's name and size, or null when the scan sent no page. A streamed pack is stored when
   * this resolves; a pack of one chunk is hashed here and `stored` settles once the store has it
   * (and synced it): the page map, which names the pack, is written meanwhile.
   */
  async finish(): Promise<PackInfo | null> {
    if (this.stream && this.stored) {
      this.stream.end();
      const info = await this.stored;
      return { integrity: info.integrity, size: info.size, stored: Promise.resolve() };
    }
    if (this.chunks.length === 0) return null;
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    const integrity = `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
    const stored = this.target.put(bytes, { durable: this.durable }).then((info) => {
      if (info.integrity !== integrity) throw new WarrenError('E_INTEGRITY', `the store named the pack ${info.integrity}, not ${integrity}`);
    });
    // Awaited by the caller; a failure before that must not be an unhandled rejection.
    stored.catch(() => undefined);
    return { integrity, size: bytes.byteLength, stored };
  }

  /** Stops a pack whose scan failed (the bytes written so far are garbage for GC). */
  abort(): void {
    this.chunks = [];
    this.stream?.destroy();
  }
}

export interface WritePageMapInput {
  target: Blobs;
  scan: PageScan;
  /** The map the scan was diffed against (its packs are in `target`: GC keeps every snapshot of a live worker); null = none. */
  base: PageMap | null;
  /** The pack of the scan's new pages, from a PackWriter; null when it had none. */
  pack: Pick<PackInfo, 'integrity' | 'size'> | null;
}

export interface WrittenPageMap {
  /** Digest of the PageMap blob. */
  digest: Integrity;
  pageMap: PageMap;
  /** Bytes of the new pack (0 when no page was new). */
  bytesWritten: number;
  /** Pages in the new pack (identical pages once). */
  pagesWritten: number;
}

/**
 * The PageMap of a snapshot: where every non-zero page lies, in the new pack or (unchanged pages,
 * and changed pages whose bytes the base holds at another index) where the base has it.
 */
export async function writePageMap(input: WritePageMapInput): Promise<WrittenPageMap> {
  const { target, scan, base, pack } = input;
  if (pack && pack.size !== scan.packPages * PAGE_SIZE) {
    throw new WarrenError('E_INTEGRITY', `the pack holds ${pack.size} bytes, the scan sent ${scan.packPages} pages`);
  }
  const packs: Integrity[] = [];
  const packNumber = new Map<Integrity, number>();
  const refer = (p: Integrity) => {
    let n = packNumber.get(p);
    if (n === undefined) {
      n = packs.length;
      packs.push(p);
      packNumber.set(p, n);
    }
    return n;
  };
  const inBase = new Map<string, [Integrity, number]>();
  if (base?.packs && base.at) for (const [key, loc] of Object.entries(base.at)) inBase.set(base.digests[key]!, [base.packs[loc[0]]!, loc[1]]);
  const at: Record<string, [number, number]> = {};
  const sent = new Set(scan.changed);
  for (const [key, digest] of Object.entries(scan.digests)) {
    if (sent.has(Number(key))) continue;
    const loc = base?.at?.[key];
    if (!base?.packs || !loc || base.digests[key] !== digest) throw new WarrenError('E_INTERNAL', `page ${key} is unchanged, but the base does not place it`);
    at[key] = [refer(base.packs[loc[0]]!), loc[1]];
  }
  scan.changed.forEach((index, k) => {
    const slot = scan.slots[k]!;
    if (slot >= 0) {
      if (!pack) throw new WarrenError('E_INTERNAL', `page ${index} has slot ${slot}, but no pack was stored`);
      at[index] = [refer(pack.integrity), slot];
      return;
    }
    const old = inBase.get(scan.digests[index]!);
    if (!old) throw new WarrenError('E_INTERNAL', `page ${index} was said to be in the base, which lacks it`);
    at[index] = [refer(old[0]), old[1]];
  });
  const pageMap: PageMap = { pageSize: PAGE_SIZE, pages: scan.pages, digests: { ...scan.digests }, packs, at };
  const info = await target.put(JSON.stringify(pageMap));
  return { digest: info.integrity, pageMap, bytesWritten: pack?.size ?? 0, pagesWritten: scan.packPages };
}

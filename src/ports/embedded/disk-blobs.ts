import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { WarrenError } from '../../errors.js';
import { isFdExhaustion, tooManyFilesError } from '../../host-failure.js';
import type { BlobInfo, Integrity, LocalBlobs, PutOptions } from '../blobs.js';

const ALGORITHM = 'sha256';
/** A durable stream is fdatasynced at least this often while it is written (see putStream). */
const SYNC_EVERY_BYTES = 8 << 20;
/** Blobs are named by their sha256 only. */
const INTEGRITY_RE = /^sha256-[A-Za-z0-9+/]{43}=$/;

export function assertIntegrity(integrity: string): asserts integrity is Integrity {
  if (!INTEGRITY_RE.test(integrity)) {
    throw new WarrenError('E_BAD_REQUEST', `not a sha256 integrity: ${JSON.stringify(integrity)}`, { integrity });
  }
}

/**
 * The node's own blob store on its disk (`<data>/store`), a small content-addressed store:
 *
 *   content-v2/sha256/<hex 0-2>/<hex 2-4>/<hex 4-64>   the bytes of the blob with that sha256
 *   tmp/put-<random>                                   a put being written (renamed into place)
 *
 * No index: the registry is the index, and a blob's place follows from its digest (placement
 * hardlinks read-only worker files to these files, so a blob keeps its inode once stored). The
 * layout is the one cacache's content store uses, which earlier versions of Warren went through:
 * stores they wrote read unchanged. cacache itself is not used (it appended an index entry per
 * put and cost more per small blob than the few syscalls here: docs/decisions.md); what earlier
 * versions left in its `index-v5/` is removed by `removeLegacyIndex` when the node opens.
 * Reads check the bytes against their name (E_INTEGRITY), as cacache's did.
 */
export class DiskBlobs implements LocalBlobs {
  private readonly contentDir: string;

  constructor(readonly dir: string) {
    this.contentDir = `${dir}/content-v2/${ALGORITHM}/`;
  }

  /**
   * Bytes in memory are hashed once, written to a private temporary file and renamed into place
   * (a reader never sees half a blob).
   */
  async put(data: Uint8Array | string, opts: PutOptions = {}): Promise<BlobInfo> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const integrity = `${ALGORITHM}-${createHash(ALGORITHM).update(bytes).digest('base64')}`;
    // Bytes the store has already are not written again.
    if (await this.stored(integrity)) return this.touch(integrity);
    const tmp = await this.tempName();
    try {
      if (opts.durable) {
        const handle = await open(tmp, 'wx', 0o644);
        try {
          await handle.writeFile(bytes);
          await handle.datasync();
        } finally {
          await handle.close();
        }
      } else {
        await writeFile(tmp, bytes, { flag: 'wx', mode: 0o644 });
      }
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return this.moveIn(tmp, integrity, bytes.byteLength);
  }

  /**
   * Streams bytes in the same way, hashed while they are written to the temporary file: a chunk
   * is hashed while the one before it is being written. A durable stream is fdatasynced every
   * SYNC_EVERY_BYTES as it goes, so the disk writes while the rest is hashed and the last sync
   * has only the tail left (a first snapshot's pack is tens of MiB).
   */
  async putStream(source: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<BlobInfo> {
    const tmp = await this.tempName();
    const hash = createHash(ALGORITHM);
    let size = 0;
    try {
      const handle = await open(tmp, 'wx', 0o644);
      const syncs: Promise<void>[] = [];
      let writing: Promise<void> = Promise.resolve();
      try {
        let unsynced = 0;
        for await (const chunk of source) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
          hash.update(bytes);
          await writing;
          writing = writeAll(handle, bytes, size);
          size += bytes.byteLength;
          unsynced += bytes.byteLength;
          if (opts.durable && unsynced >= SYNC_EVERY_BYTES) {
            unsynced = 0;
            syncs.push(writing.then(() => handle.datasync()));
          }
        }
        await writing;
        if (opts.durable) await handle.datasync();
      } finally {
        // Every write and sync has settled before the file is closed (or removed).
        await Promise.allSettled([writing, ...syncs]);
        await handle.close();
      }
      await Promise.all(syncs);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return this.moveIn(tmp, `${ALGORITHM}-${hash.digest('base64')}`, size);
  }

  /** Directories of the content layout known to exist (a put skips its mkdir). */
  private readonly knownDirs = new Set<string>();

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  private stored(integrity: Integrity): Promise<boolean> {
    return stat(contentPath(this.dir, integrity)).then(() => true, () => false);
  }

  /** A fresh name in `<store>/tmp` (same filesystem as the content: a rename moves it in). */
  private async tempName(): Promise<string> {
    const tmpDir = `${this.dir}/tmp`;
    await this.ensureDir(tmpDir);
    return `${tmpDir}/put-${randomBytes(8).toString('hex')}`;
  }

  /**
   * Renames a written temporary file to its digest's place; when the store has the blob already
   * the file is dropped and the blob touched: it keeps its inode (workers' read-only files are
   * hardlinks of it).
   */
  private async moveIn(tmp: string, integrity: Integrity, size: number): Promise<BlobInfo> {
    const path = contentPath(this.dir, integrity);
    try {
      if (await this.stored(integrity)) {
        await rm(tmp, { force: true });
        return this.touch(integrity);
      }
      const dir = path.slice(0, path.lastIndexOf('/'));
      await this.ensureDir(dir);
      await rename(tmp, path).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // The directory went meanwhile (removed with its last blob): make it again, once.
        this.knownDirs.delete(dir);
        await this.ensureDir(dir);
        await rename(tmp, path);
      });
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { integrity, size, time: Date.now() };
  }

  async get(integrity: Integrity): Promise<Buffer> {
    const path = contentPath(this.dir, integrity);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw notFound(integrity, err);
    }
    if (`${ALGORITHM}-${createHash(ALGORITHM).update(bytes).digest('base64')}` !== integrity) throw corrupt(integrity);
    return bytes;
  }

  async has(integrity: Integrity): Promise<boolean> {
    return this.stored(integrity);
  }

  async info(integrity: Integrity): Promise<BlobInfo | null> {
    const st = await stat(contentPath(this.dir, integrity)).catch(() => null);
    return st ? { integrity, size: st.size, time: st.mtimeMs } : null;
  }

  /** The bytes, checked against their name as they go: a mismatch ends the stream with E_INTEGRITY. */
  stream(integrity: Integrity): Readable {
    const path = contentPath(this.dir, integrity);
    const hash = createHash(ALGORITHM);
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        done(`${ALGORITHM}-${hash.digest('base64')}` === integrity ? null : corrupt(integrity));
      },
    });
    const file = createReadStream(path);
    file.on('error', (err) => check.destroy(notFound(integrity, err)));
    return file.pipe(check);
  }

  async delete(integrity: Integrity): Promise<void> {
    await rm(contentPath(this.dir, integrity), { force: true });
  }

  async path(integrity: Integrity): Promise<string | null> {
    return (await this.stored(integrity)) ? contentPath(this.dir, integrity) : null;
  }

  localPathHint(integrity: Integrity): string {
    return this.contentDir + contentName(integrity); // contentName checks the integrity
  }

  async *list(): AsyncIterable<BlobInfo> {
    const root = `${this.dir}/content-v2/${ALGORITHM}`;
    let level1: string[];
    try {
      level1 = await readdir(root);
    } catch {
      return;
    }
    for (const a of level1) {
      for (const b of await readdir(`${root}/${a}`).catch(() => [] as string[])) {
        for (const rest of await readdir(`${root}/${a}/${b}`).catch(() => [] as string[])) {
          const hex = a + b + rest;
          if (!/^[0-9a-f]{64}$/.test(hex)) continue; // temp files of an interrupted write
          const integrity = `${ALGORITHM}-${Buffer.from(hex, 'hex').toString('base64')}`;
          const st = await stat(`${root}/${a}/${b}/${rest}`).catch(() => null);
          if (st) yield { integrity, size: st.size, time: st.mtimeMs };
        }
      }
    }
  }

  async verify(): Promise<{ checked: number; corrupt: Integrity[] }> {
    let checked = 0;
    const corrupt: Integrity[] = [];
    for await (const blob of this.list()) {
      const hash = createHash(ALGORITHM);
      await pipeline(createReadStream(contentPath(this.dir, blob.integrity)), hash);
      checked++;
      if (`${ALGORITHM}-${hash.digest('base64')}` !== blob.integrity) corrupt.push(blob.integrity);
    }
    return { checked, corrupt };
  }

  async close(): Promise<void> {}

  /**
   * Re-putting bytes that already exist leaves the file untouched; bumping its mtime makes
   * the GC grace period count from the latest put, so GC never sweeps a blob a push is re-using.
   */
  private async touch(integrity: string): Promise<BlobInfo> {
    const path = contentPath(this.dir, integrity);
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    const info = await this.info(integrity);
    if (!info) throw new WarrenError('E_INTERNAL', `blob ${integrity} vanished after write`);
    return info;
  }

}

/**
 * Removes the `index-v5/` directory that versions of Warren which went through cacache left in
 * the store: it held only entries under one key, 'warren-blob', that nothing reads.
 */
export async function removeLegacyIndex(dir: string): Promise<void> {
  await rm(`${dir}/index-v5`, { recursive: true, force: true });
}

/** Where a blob lives: content-v2/<algo>/<hex[0:2]>/<hex[2:4]>/<hex[4:]> (see DiskBlobs). */
export function contentPath(dir: string, integrity: Integrity): string {
  return `${dir}/content-v2/${ALGORITHM}/${contentName(integrity)}`;
}

const BASE64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64_VALUE['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
const HEX = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX[i] = '0123456789abcdef'.charCodeAt(i);
const PREFIX = `${ALGORITHM}-`;
/** `ab/cd/<60 hex>`, built in place: placement asks for one per file, and a base64 decode, a hex
 * string, slices and the regex cost more (docs/decisions.md) and leave a string of many pieces to flatten. */
const nameBytes = Buffer.alloc(66);
nameBytes[2] = nameBytes[5] = '/'.charCodeAt(0);

/** Writes byte j of the digest as hex at its place in nameBytes. */
function putHex(j: number, byte: number): void {
  const at = j === 0 ? 0 : j === 1 ? 3 : 2 * j + 2;
  nameBytes[at] = HEX[byte >> 4]!;
  nameBytes[at + 1] = HEX[byte & 15]!;
}

/**
 * The content's path below `content-v2/<algo>/` for an integrity string, which is checked (as
 * INTEGRITY_RE does) in the pass that decodes it; throws E_BAD_REQUEST if it is not one.
 */
function contentName(integrity: string): string {
  if (integrity.length !== 51 || !integrity.startsWith(PREFIX) || integrity.charCodeAt(50) !== 61) assertIntegrity(integrity);
  // 43 digits: 10 groups of 4 (3 bytes each), then 3 digits for 2 bytes and 2 spare bits
  // (ignored, as Buffer's decoder does). The table is indexed by a character's low 7 bits;
  // `codes` catches the others, `invalid` (< 0) a character that is no base64 digit.
  let invalid = 0;
  let codes = 0;
  for (let g = 0; g < 10; g++) {
    const i = 7 + 4 * g;
    const c0 = integrity.charCodeAt(i);
    const c1 = integrity.charCodeAt(i + 1);
    const c2 = integrity.charCodeAt(i + 2);
    const c3 = integrity.charCodeAt(i + 3);
    const v0 = BASE64_VALUE[c0 & 127]!;
    const v1 = BASE64_VALUE[c1 & 127]!;
    const v2 = BASE64_VALUE[c2 & 127]!;
    const v3 = BASE64_VALUE[c3 & 127]!;
    codes |= c0 | c1 | c2 | c3;
    invalid |= v0 | v1 | v2 | v3;
    const w = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
    putHex(3 * g, w >> 16);
    putHex(3 * g + 1, (w >> 8) & 255);
    putHex(3 * g + 2, w & 255);
  }
  const c0 = integrity.charCodeAt(47);
  const c1 = integrity.charCodeAt(48);
  const c2 = integrity.charCodeAt(49);
  const v0 = BASE64_VALUE[c0 & 127]!;
  const v1 = BASE64_VALUE[c1 & 127]!;
  const v2 = BASE64_VALUE[c2 & 127]!;
  codes |= c0 | c1 | c2;
  invalid |= v0 | v1 | v2;
  const w = (v0 << 12) | (v1 << 6) | v2;
  putHex(30, (w >> 10) & 255);
  putHex(31, (w >> 2) & 255);
  if (invalid < 0 || codes > 127) assertIntegrity(integrity);
  return nameBytes.toString('latin1', 0, 66);
}

/** pwrite of all of `bytes` at `position` (a write may take fewer bytes than asked). */
async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

function corrupt(integrity: string): WarrenError {
  return new WarrenError('E_INTEGRITY', `blob ${integrity} is corrupt`, { integrity });
}

function notFound(integrity: string, cause: unknown): WarrenError {
  const code = (cause as { code?: string })?.code;
  if (code === 'ENOENT') return new WarrenError('E_NOT_FOUND', `blob ${integrity} not found`, { integrity });
  if (isFdExhaustion(cause)) return tooManyFilesError(`reading blob ${integrity}`);
  return new WarrenError('E_INTERNAL', `reading blob ${integrity}: ${String(cause)}`, { integrity });
}

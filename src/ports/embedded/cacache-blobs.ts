import cacache from 'cacache';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat, utimes } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { WarrenError } from '../../errors.js';
import type { BlobInfo, Blobs, Integrity } from '../blobs.js';

const ALGORITHM = 'sha256';
/** cacache is keyed by both index keys and content; Warren only uses content, by digest. */
const INTEGRITY_RE = /^sha256-[A-Za-z0-9+/]{43}=$/;

export function assertIntegrity(integrity: string): asserts integrity is Integrity {
  if (!INTEGRITY_RE.test(integrity)) {
    throw new WarrenError('E_BAD_REQUEST', `not a sha256 integrity: ${JSON.stringify(integrity)}`, { integrity });
  }
}

/**
 * Blobs in a cacache content store (`<data>/store`). Content only, no index: the registry is
 * the index. The store's own files are what read-only worker files hardlink to.
 */
export class CacacheBlobs implements Blobs {
  constructor(readonly dir: string) {}

  async put(data: Uint8Array | string): Promise<BlobInfo> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const integrity = String(await cacache.put(this.dir, 'warren-blob', bytes, { algorithms: [ALGORITHM] }));
    return this.touch(integrity);
  }

  async putStream(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    // cacache refuses an empty stream; an empty blob is still a blob.
    const iter = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const first = await iter.next();
    if (first.done) return this.put(new Uint8Array(0));
    const rest = Readable.from(
      (async function* () {
        yield first.value;
        for (let n = await iter.next(); !n.done; n = await iter.next()) yield n.value;
      })(),
    );
    const sink = cacache.put.stream(this.dir, 'warren-blob', { algorithms: [ALGORITHM] });
    let integrity = '';
    sink.on('integrity', (i: unknown) => {
      integrity = String(i);
    });
    await pipeline(rest, sink);
    return this.touch(integrity);
  }

  async get(integrity: Integrity): Promise<Buffer> {
    assertIntegrity(integrity);
    try {
      return await cacache.get.byDigest(this.dir, integrity);
    } catch (err) {
      throw notFound(integrity, err);
    }
  }

  async has(integrity: Integrity): Promise<boolean> {
    assertIntegrity(integrity);
    return Boolean(await cacache.get.hasContent(this.dir, integrity));
  }

  async info(integrity: Integrity): Promise<BlobInfo | null> {
    const path = await this.path(integrity);
    if (!path) return null;
    const st = await stat(path);
    return { integrity, size: st.size, time: st.mtimeMs };
  }

  stream(integrity: Integrity): Readable {
    assertIntegrity(integrity);
    return cacache.get.stream.byDigest(this.dir, integrity) as unknown as Readable;
  }

  async delete(integrity: Integrity): Promise<void> {
    assertIntegrity(integrity);
    await cacache.rm.content(this.dir, integrity);
  }

  async path(integrity: Integrity): Promise<string | null> {
    assertIntegrity(integrity);
    const found = await cacache.get.hasContent(this.dir, integrity);
    if (!found) return null;
    return contentPath(this.dir, integrity);
  }

  localPathHint(integrity: Integrity): string {
    assertIntegrity(integrity);
    return contentPath(this.dir, integrity);
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
   * Re-putting bytes that already exist leaves cacache's file untouched; bumping its mtime makes
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

  /**
   * cacache.put also appends to its key index; Warren's index is the registry, so GC drops
   * cacache's index bucket (it only ever holds the one key 'warren-blob').
   */
  async compactIndex(): Promise<void> {
    await cacache.index.compact(this.dir, 'warren-blob', () => false).catch(() => undefined);
  }
}

/** cacache's content layout: content-v2/<algo>/<hex[0:2]>/<hex[2:4]>/<hex[4:]>. */
// Decoded into one reused buffer: placement asks for a path per file (half the cost of Buffer.from).
const digestBytes = Buffer.alloc(33);

export function contentPath(dir: string, integrity: Integrity): string {
  const n = digestBytes.write(integrity.slice(ALGORITHM.length + 1), 'base64');
  const hex = digestBytes.toString('hex', 0, n);
  return `${dir}/content-v2/${ALGORITHM}/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex.slice(4)}`;
}

function notFound(integrity: string, cause: unknown): WarrenError {
  const code = (cause as { code?: string })?.code;
  if (code === 'ENOENT' || code === 'ENOTCACHED') return new WarrenError('E_NOT_FOUND', `blob ${integrity} not found`, { integrity });
  if (code === 'EINTEGRITY') return new WarrenError('E_INTEGRITY', `blob ${integrity} is corrupt`, { integrity });
  return new WarrenError('E_INTERNAL', `reading blob ${integrity}: ${String(cause)}`, { integrity });
}

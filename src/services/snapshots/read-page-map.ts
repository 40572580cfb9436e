import { open } from 'node:fs/promises';
import { WarrenError } from '../../errors.js';
import { runBounded } from '../../fsplace/run-bounded.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { PageMap } from '../../records.js';
import { PAGE_SIZE } from '../../runtime/memory-pages.js';

export interface LoadedPages {
  pageMap: PageMap;
  /** Indexes of the non-zero pages, ascending, in `data` order. */
  indexes: number[];
  /** The pages' bytes, one after another, in one buffer (transferred to the thread). */
  data: Uint8Array<ArrayBuffer>;
}

export async function readPageMap(store: Blobs, digest: Integrity): Promise<PageMap> {
  let map: PageMap;
  try {
    map = JSON.parse((await store.get(digest)).toString('utf8')) as PageMap;
  } catch (err) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} is unreadable: ${(err as Error).message}`, { digest });
  }
  if (map.pageSize !== PAGE_SIZE || !Number.isInteger(map.pages) || map.pages < 0 || typeof map.digests !== 'object' || map.digests === null) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} is not a 64 KiB page map`, { digest });
  }
  return map;
}

/**
 * Reads every non-zero page of a snapshot into one buffer. Pages are read straight from the
 * store's files where it has them (no per-page buffers); their names are their digests, written
 * once by an atomic rename, and `warren admin verify` re-hashes them.
 */
export async function readPages(store: Blobs, digest: Integrity, concurrency = 16): Promise<LoadedPages> {
  const pageMap = await readPageMap(store, digest);
  const indexes = Object.keys(pageMap.digests).map(Number).sort((a, b) => a - b);
  if (indexes.some((i) => !Number.isInteger(i) || i < 0 || i >= pageMap.pages)) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} lists a page past its ${pageMap.pages} pages`, { digest });
  }
  const data = new Uint8Array(indexes.length * PAGE_SIZE);
  await runBounded(indexes, concurrency, async (index, k) => {
    const pageDigest = pageMap.digests[index]!;
    const into = data.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE);
    const path = await store.path(pageDigest).catch(() => null);
    if (path && (await readFileInto(path, into))) return;
    const bytes = await store.get(pageDigest).catch((err: unknown) => {
      throw new WarrenError('E_SNAPSHOT_INVALID', `page ${index} (${pageDigest}) is not in the store: ${(err as Error).message}`, { page: index, digest: pageDigest });
    });
    if (bytes.byteLength !== PAGE_SIZE) throw new WarrenError('E_SNAPSHOT_INVALID', `page ${index} is ${bytes.byteLength} bytes, not 64 KiB`, { page: index });
    into.set(bytes);
  });
  return { pageMap, indexes, data };
}

/** False when the file is gone or not one page long (the caller falls back to `get`). */
async function readFileInto(path: string, into: Uint8Array): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const { bytesRead } = await handle.read(into, 0, PAGE_SIZE, 0);
    if (bytesRead !== PAGE_SIZE) return false;
    const { bytesRead: extra } = await handle.read(new Uint8Array(1), 0, 1, PAGE_SIZE);
    return extra === 0;
  } finally {
    await handle.close();
  }
}

import { WarrenError } from '../../errors.js';
import { runBounded } from '../../fsplace/run-bounded.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import { contentPath, type CacacheBlobs } from '../../ports/embedded/cacache-blobs.js';
import type { PageMap } from '../../records.js';
import { PAGE_SIZE } from '../../runtime/memory-pages.js';

export interface PageFiles {
  pageMap: PageMap;
  /** Indexes of the non-zero pages, ascending. */
  indexes: number[];
  /** The local store file of each page, in `indexes` order. */
  files: string[];
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
 * Where each page of a snapshot lies on this node, for the guest thread to read straight into
 * linear memory. Pages in the node's own store are named by digest, with no lookup (a missing
 * one fails the restore in the thread); a store that is not the local one (the cluster's) is
 * asked for each page's local file, which fetches what the node lacks. Page files are written
 * once, by an atomic rename, under their digest; `warren admin verify` re-hashes them.
 */
export async function locatePages(store: Blobs, local: CacacheBlobs, digest: Integrity, concurrency = 16): Promise<PageFiles> {
  const pageMap = await readPageMap(store, digest);
  const indexes = Object.keys(pageMap.digests).map(Number).sort((a, b) => a - b);
  if (indexes.some((i) => !Number.isInteger(i) || i < 0 || i >= pageMap.pages)) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} lists a page past its ${pageMap.pages} pages`, { digest });
  }
  const digests = indexes.map((i) => pageMap.digests[i]!);
  if ((store as unknown) === local) return { pageMap, indexes, files: digests.map((d) => contentPath(local.dir, d)) };
  const files: string[] = new Array<string>(digests.length);
  await runBounded(digests, concurrency, async (pageDigest, k) => {
    const path = await store.path(pageDigest);
    if (!path) throw new WarrenError('E_SNAPSHOT_INVALID', `page ${indexes[k]} (${pageDigest}) is not in the store`, { page: indexes[k], digest: pageDigest });
    files[k] = path;
  });
  return { pageMap, indexes, files };
}

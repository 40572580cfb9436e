import { createHash } from 'node:crypto';

export const PAGE_SIZE = 65536;

export interface PageScan {
  /** Number of 64 KiB pages of linear memory. */
  pages: number;
  /** page index → sha256 integrity; zero pages are absent. */
  digests: Record<string, string>;
  /** Pages whose digest differs from the previous scan (with their bytes, copied). */
  changed: { index: number; digest: string; bytes: Uint8Array }[];
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/**
 * Cuts linear memory into 64 KiB pages and hashes each non-zero one. Pages whose digest equals
 * the previous scan's are not copied out: a second snapshot moves only what changed.
 */
export function scanPages(memory: WebAssembly.Memory, previous: Record<string, string> | null): PageScan {
  const bytes = new Uint8Array(memory.buffer);
  const pages = bytes.byteLength / PAGE_SIZE;
  const digests: Record<string, string> = {};
  const changed: PageScan['changed'] = [];
  for (let i = 0; i < pages; i++) {
    const page = bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
    if (isZero(page)) continue;
    const digest = `sha256-${createHash('sha256').update(page).digest('base64')}`;
    digests[i] = digest;
    if (previous?.[i] !== digest) changed.push({ index: i, digest, bytes: page.slice() });
  }
  return { pages, digests, changed };
}

function isZero(page: Uint8Array): boolean {
  // Compare 8 bytes at a time; a page is 64 KiB aligned so the view is always aligned.
  const words = new BigUint64Array(page.buffer, page.byteOffset, PAGE_SIZE / 8);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0n) return false;
  return true;
}

/** Grows memory to `pages` and writes the given pages; pages not given are zeroed. */
export function restorePages(memory: WebAssembly.Memory, pages: number, contents: Map<number, Uint8Array>): void {
  const current = memory.buffer.byteLength / PAGE_SIZE;
  if (pages > current) memory.grow(pages - current);
  const bytes = new Uint8Array(memory.buffer);
  for (let i = 0; i < pages; i++) bytes.set(contents.get(i) ?? ZERO_PAGE, i * PAGE_SIZE);
}

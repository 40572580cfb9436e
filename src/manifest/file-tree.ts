import { z } from 'zod';
import { WarrenError } from '../errors.js';
import type { Blobs, Integrity } from '../ports/blobs.js';
import type { FileTree, FileTreeEntry } from '../records.js';
import { guestPathProblem } from './check-paths.js';

/**
 * A file tree's one byte form. Key order is fixed and entries are sorted by path (JS string
 * order, i.e. UTF-16 code units), so equal trees are equal blobs and share a digest.
 */
export function encodeFileTree(tree: FileTree): Buffer {
  const entries = [...tree.entries].sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.path === entries[i - 1]!.path) {
      throw new WarrenError('E_INTERNAL', `file tree has ${entries[i]!.path} twice`, { path: entries[i]!.path });
    }
  }
  const canonical = {
    version: 1,
    entries: entries.map((e) => ({ path: e.path, digest: e.digest, mode: e.mode, size: e.size })),
  };
  return Buffer.from(JSON.stringify(canonical), 'utf8');
}

export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const entrySchema = z.strictObject({
  path: z.string().refine((p) => guestPathProblem(p) === null, { error: 'not a clean absolute path' }),
  digest: z.string().regex(/^sha256-[A-Za-z0-9+/]{43}=$/),
  mode: z.enum(['ro', 'rw']),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
const treeSchema = z.strictObject({ version: z.literal(1), entries: z.array(entrySchema) });

/**
 * Parses and checks a file tree blob: shape, clean paths, sorted, no duplicates, and no file
 * that is also the directory of another. A tree that fails is corrupt data, not user input,
 * hence `E_INTEGRITY`.
 */
export function decodeFileTree(bytes: Uint8Array | string): FileTree {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new WarrenError('E_INTEGRITY', `file tree is not JSON: ${(err as Error).message}`);
  }
  const parsed = treeSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new WarrenError('E_INTEGRITY', `file tree is malformed at ${first.path.join('.') || '(root)'}: ${first.message}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const entries: FileTreeEntry[] = parsed.data.entries;
  const problem = treeOrderProblem(entries);
  if (problem) throw new WarrenError('E_INTEGRITY', `file tree is malformed: ${problem.message}`, { path: problem.path });
  return { version: 1, entries };
}

/**
 * Why a list of entries is not a valid tree (unsorted, duplicate, a file used as a directory),
 * naming the offending path, or null.
 */
export function treeOrderProblem(entries: readonly { path: string }[]): { path: string; message: string } | null {
  const files = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const path = entries[i]!.path;
    if (i > 0 && comparePaths(entries[i - 1]!.path, path) >= 0) return { path, message: `entries not sorted or duplicate at ${path}` };
    files.add(path);
  }
  for (const { path } of entries) {
    for (let slash = path.indexOf('/', 1); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const dir = path.slice(0, slash);
      if (files.has(dir)) return { path, message: `${dir} is a file and also the directory of ${path}` };
    }
  }
  return null;
}

export async function readFileTree(blobs: Blobs, digest: Integrity): Promise<FileTree> {
  return decodeFileTree(await blobs.get(digest));
}

export async function writeFileTree(blobs: Blobs, tree: FileTree): Promise<Integrity> {
  return (await blobs.put(encodeFileTree(tree))).integrity;
}

import { createWriteStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { WarrenError } from '../errors.js';
import { guestPathProblem } from './check-paths.js';
import { comparePaths, treeOrderProblem } from './file-tree.js';
import { isUrlSource, type FilePermissions, type Manifest } from './manifest-types.js';

/** One file to pack: where its bytes are on this machine and where the guest sees them. */
export interface PackEntry {
  /** Clean absolute guest path. */
  target: string;
  realPath: string;
  size: number;
  permissions: FilePermissions;
  /** Index of the `[[files]]` entry it came from, for messages. */
  fileIndex: number;
}

/**
 * Expands the manifest's `[[files]]` into single files, sorted by target: a file source is one
 * entry, a directory is walked (target/relative path), a URL is downloaded into `downloadDir`.
 * Everything read must stay inside the component dir, symlinks included (a link is followed
 * only when its real target is inside). Empty directories vanish: a file tree holds files.
 */
export async function expandFileSources(
  componentDir: string,
  manifest: Manifest,
  downloadDir: string,
  fetchImpl: typeof fetch,
): Promise<PackEntry[]> {
  const root = await realpath(componentDir);
  const entries: PackEntry[] = [];
  for (const [fileIndex, file] of manifest.files.entries()) {
    const add = (target: string, realPath: string, size: number) => {
      const problem = guestPathProblem(target, { noBackslash: true });
      if (problem) {
        throw new WarrenError('E_PATH_INVALID', `files[${fileIndex}]: ${realPath} would become guest path ${JSON.stringify(target)}, which ${problem.message}`, {
          field: `files[${fileIndex}]`,
          rule: problem.rule,
          path: realPath,
        });
      }
      entries.push({ target, realPath, size, permissions: file.permissions, fileIndex });
    };
    if (isUrlSource(file.source)) {
      const dest = join(downloadDir, `${fileIndex}`);
      add(file.target, dest, await download(file.source, dest, fetchImpl, fileIndex));
      continue;
    }
    const start = resolve(root, file.source);
    const real = await insideRealPath(root, start, fileIndex);
    const st = await stat(real);
    if (st.isFile()) add(file.target, real, st.size);
    else if (st.isDirectory()) await walk(root, real, file.target, add, fileIndex, new Set([real]));
    else throw notRegular(start, fileIndex);
  }
  entries.sort((a, b) => comparePaths(a.target, b.target));
  checkExpandedTargets(entries);
  return entries;
}

async function walk(
  root: string,
  dir: string,
  target: string,
  add: (target: string, realPath: string, size: number) => void,
  fileIndex: number,
  ancestors: Set<string>,
): Promise<void> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const real = await insideRealPath(root, path, fileIndex);
    const st = await stat(real);
    if (st.isFile()) add(`${target}/${name}`, real, st.size);
    else if (st.isDirectory()) {
      if (ancestors.has(real)) {
        throw new WarrenError('E_PATH_INVALID', `files[${fileIndex}]: ${path} links back to its own ancestor ${real}`, { field: `files[${fileIndex}]`, path });
      }
      await walk(root, real, `${target}/${name}`, add, fileIndex, new Set([...ancestors, real]));
    } else throw notRegular(path, fileIndex);
  }
}

/** Resolves links and refuses anything whose real location is outside the component dir. */
async function insideRealPath(root: string, path: string, fileIndex: number): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const link = await lstat(path).catch(() => null);
    if (link?.isSymbolicLink()) {
      throw new WarrenError('E_PATH_INVALID', `files[${fileIndex}]: ${path} is a dangling symlink`, { field: `files[${fileIndex}]`, path });
    }
    throw new WarrenError('E_NOT_FOUND', `files[${fileIndex}]: source ${path} not found`, { field: `files[${fileIndex}]`, path, cause: String(err) });
  }
  const rel = relative(root, real);
  if (rel === '..' || rel.startsWith('..' + sep) || resolve(root, rel) !== real) {
    throw new WarrenError('E_PATH_INVALID', `files[${fileIndex}]: ${path} resolves to ${real}, outside the component directory ${root}`, {
      field: `files[${fileIndex}]`,
      path,
      realPath: real,
    });
  }
  return real;
}

function notRegular(path: string, fileIndex: number): WarrenError {
  return new WarrenError('E_PATH_INVALID', `files[${fileIndex}]: ${path} is neither a regular file nor a directory`, { field: `files[${fileIndex}]`, path });
}

async function download(url: string, dest: string, fetchImpl: typeof fetch, fileIndex: number): Promise<number> {
  let res: Response;
  try {
    res = await fetchImpl(url, { redirect: 'follow' });
  } catch (err) {
    throw new WarrenError('E_UNAVAILABLE', `files[${fileIndex}]: fetching ${url} failed: ${(err as Error).message}`, { field: `files[${fileIndex}]`, url });
  }
  if (!res.ok || !res.body) {
    throw new WarrenError('E_UNAVAILABLE', `files[${fileIndex}]: fetching ${url} answered ${res.status} ${res.statusText}`, {
      field: `files[${fileIndex}]`,
      url,
      status: res.status,
    });
  }
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(dest));
  return (await stat(dest)).size;
}

/**
 * After expansion the real shape is known: two sources may not yield the same guest path, and
 * no file may sit where another source needs a directory.
 */
function checkExpandedTargets(entries: PackEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1]!;
    const b = entries[i]!;
    if (a.target === b.target) {
      throw new WarrenError('E_MANIFEST_INVALID', `files[${a.fileIndex}] and files[${b.fileIndex}] both yield ${a.target}`, {
        issues: [{ path: `files[${b.fileIndex}].target`, rule: 'unique-target', message: `${b.target} is also yielded by files[${a.fileIndex}]` }],
      });
    }
  }
  const problem = treeOrderProblem(entries.map((e) => ({ path: e.target })));
  if (problem) {
    const culprit = entries.find((e) => e.target === problem.path);
    const field = culprit ? `files[${culprit.fileIndex}].target` : 'files';
    throw new WarrenError('E_MANIFEST_INVALID', `initial files overlap: ${field}: ${problem.message}`, {
      issues: [{ path: field, rule: 'target-under-file', message: problem.message }],
    });
  }
}

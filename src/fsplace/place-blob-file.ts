import { constants, createWriteStream, linkSync } from 'node:fs';
import { chmod, copyFile, link, lstat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { WarrenError } from '../errors.js';
import type { Blobs, Integrity } from '../ports/blobs.js';

/** Why a read-only file was copied instead of hardlinked. */
export interface CopyFallbackEvent {
  guestPath: string;
  /** `EXDEV` (store on another filesystem), `EMLINK` (link count limit), `EPERM`, ..., or `NO_LOCAL_FILE`. */
  reason: string;
}

/** Link errors after which a copy still gives the right bytes. */
const LINK_FALLBACK_CODES = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);
/** Mode of read-write files in a worker root, whatever the umask. */
export const WRITABLE_MODE = 0o644;

/**
 * Puts the read-only blob `digest` at `dst` (which must not exist): a hardlink to the store file,
 * so no byte is read. The store file's mode is left alone: a chmod here would chmod the store.
 */
export async function linkReadOnlyBlob(
  blobs: Blobs,
  digest: Integrity,
  dst: string,
  guestPath: string,
  onFallback: (event: CopyFallbackEvent) => void,
): Promise<'linked' | 'copied'> {
  // Fast path, one syscall: link the store file where the store says it would be. Most
  // placements are all hits; a miss (ENOENT: not local yet) takes the checked path below.
  const hint = blobs.localPathHint?.(digest);
  if (hint !== undefined) {
    try {
      linkSync(hint, dst);
      return 'linked';
    } catch (err) {
      return linkReadOnlyBlobAfterHint(blobs, digest, dst, guestPath, onFallback, hint, err);
    }
  }
  return linkCheckedBlob(blobs, digest, dst, guestPath, onFallback);
}

/**
 * Goes on after linking the store's hinted path `hint` to `dst` failed with `err` (from linkSync
 * or from a batch of links): a miss takes the checked path, a link that cannot work here copies.
 */
export async function linkReadOnlyBlobAfterHint(
  blobs: Blobs,
  digest: Integrity,
  dst: string,
  guestPath: string,
  onFallback: (event: CopyFallbackEvent) => void,
  hint: string,
  err: unknown,
): Promise<'linked' | 'copied'> {
  if (errorCode(err) !== 'ENOENT') return linkFailed(err, hint, dst, digest, guestPath, onFallback);
  return linkCheckedBlob(blobs, digest, dst, guestPath, onFallback);
}

/** Asks the store whether and where the blob is local, then links (or streams) it. */
async function linkCheckedBlob(
  blobs: Blobs,
  digest: Integrity,
  dst: string,
  guestPath: string,
  onFallback: (event: CopyFallbackEvent) => void,
): Promise<'linked' | 'copied'> {
  const src = await localFileOf(blobs, digest, guestPath);
  if (src === null) {
    await streamBlobTo(blobs, digest, dst, guestPath);
    onFallback({ guestPath, reason: 'NO_LOCAL_FILE' });
    return 'copied';
  }
  try {
    await link(src, dst);
    return 'linked';
  } catch (err) {
    if (errorCode(err) === 'ENOENT') throw blobMissing(digest, guestPath);
    return linkFailed(err, src, dst, digest, guestPath, onFallback);
  }
}

/** A link that cannot work here (another filesystem, link limit...) becomes a copy; anything else is an error. */
async function linkFailed(
  err: unknown,
  src: string,
  dst: string,
  digest: Integrity,
  guestPath: string,
  onFallback: (event: CopyFallbackEvent) => void,
): Promise<'copied'> {
  const code = errorCode(err);
  if (!LINK_FALLBACK_CODES.has(code)) throw err;
  await copyBlobFile(src, dst, digest, guestPath);
  onFallback({ guestPath, reason: code });
  return 'copied';
}

/** Puts a private, writable copy of blob `digest` at `dst` (which must not exist). */
export async function copyWritableBlob(blobs: Blobs, digest: Integrity, dst: string, guestPath: string): Promise<void> {
  const src = await localFileOf(blobs, digest, guestPath);
  if (src === null) await streamBlobTo(blobs, digest, dst, guestPath);
  else await copyBlobFile(src, dst, digest, guestPath);
  await chmod(dst, WRITABLE_MODE);
}

/** The store's local file for `digest`; null when the adapter keeps none (bytes come by stream). */
async function localFileOf(blobs: Blobs, digest: Integrity, guestPath: string): Promise<string | null> {
  const path = await blobs.path(digest);
  if (path !== null) return path;
  if (await blobs.has(digest)) return null;
  throw blobMissing(digest, guestPath);
}

async function copyBlobFile(src: string, dst: string, digest: Integrity, guestPath: string): Promise<void> {
  try {
    await copyFile(src, dst, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  } catch (err) {
    if (errorCode(err) === 'ENOENT' && !(await exists(dst))) throw blobMissing(digest, guestPath);
    throw err;
  }
}

async function streamBlobTo(blobs: Blobs, digest: Integrity, dst: string, guestPath: string): Promise<void> {
  try {
    await pipeline(blobs.stream(digest), createWriteStream(dst, { flags: 'wx', mode: WRITABLE_MODE }));
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTCACHED') throw blobMissing(digest, guestPath);
    throw err;
  }
}

function blobMissing(digest: Integrity, guestPath: string): WarrenError {
  return new WarrenError('E_NOT_FOUND', `blob ${digest} for ${guestPath} is not in the store`, { digest, path: guestPath });
}

export function errorCode(err: unknown): string {
  return String((err as { code?: unknown } | null)?.code ?? '');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

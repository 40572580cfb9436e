import { WarrenError } from '../errors.js';

/**
 * What a component's files zip may hold, in absolute sizes only. There is no compression-ratio
 * rule: a zero-filled disk image or a preallocated database compresses 1000:1 and is legitimate,
 * and the total bounds what a zip bomb can cost whatever its ratio.
 */
export interface ZipLimits {
  /** Sum of the inflated sizes of all entries. */
  maxTotalBytes: number;
  /** Number of entries in the central directory, directories included. */
  maxEntries: number;
  /** Inflated size of one entry. */
  maxEntryBytes: number;
}

export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxTotalBytes: 8 * 2 ** 30,
  maxEntries: 100_000,
  maxEntryBytes: 8 * 2 ** 30,
});

/** Fills in defaults; a per-entry limit left out follows the total (one entry may be all of it). */
export function resolveZipLimits(limits: Partial<ZipLimits> = {}): ZipLimits {
  const maxTotalBytes = limits.maxTotalBytes ?? DEFAULT_ZIP_LIMITS.maxTotalBytes;
  const resolved: ZipLimits = {
    maxTotalBytes,
    maxEntries: limits.maxEntries ?? DEFAULT_ZIP_LIMITS.maxEntries,
    maxEntryBytes: limits.maxEntryBytes ?? maxTotalBytes,
  };
  for (const [field, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new WarrenError('E_BAD_REQUEST', `zip limit ${field} must be a positive whole number, got ${String(value)}`, { field, value });
    }
  }
  return resolved;
}

/**
 * The largest files zip an upload may carry: the inflated total plus room for the zip's own
 * structure (headers, names, ZIP64 records, deflate's worst-case growth on incompressible data).
 * The limits that matter are counted on inflated bytes while unpacking; this only keeps a
 * staged upload from outgrowing them by much.
 */
export function zipUploadLimit(limits: ZipLimits): number {
  return limits.maxTotalBytes + Math.ceil(limits.maxTotalBytes / 1000) + limits.maxEntries * 1024 + 2 ** 20;
}

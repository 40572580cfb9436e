import { WarrenError } from '../errors.js';

export type MountMode = 'ro' | 'rw';

/** One preopened directory: what the guest sees at `guestPath` is the host directory `hostPath`. */
export interface Mount {
  guestPath: string;
  hostPath: string;
  mode: MountMode;
  /**
   * A host directory merged under `hostPath` as a read-only lower layer (an overlay): names are
   * looked up in `hostPath` first, then here; nothing found here is ever changed, and new names
   * land in `hostPath` (docs/decisions.md, "Overlay mounts in the WASI host"). A worker root is
   * its own directory over the version's shared tree.
   */
  lowerPath?: string;
}

/**
 * What a guest may touch, as plain data (JSON as is): mounts, plus files that stay read-only
 * inside read-write mounts (a worker root is `/` rw with its read-only initial files listed here).
 */
export interface MountTable {
  mounts: Mount[];
  /** Absolute, normalized guest paths. */
  readOnlyFiles: string[];
}

/** Normalizes an absolute guest path lexically: no `.`/`..`/empty components, no trailing slash. */
export function normalizeGuestPath(path: string): string {
  if (!path.startsWith('/') || path.includes('\0')) {
    throw new WarrenError('E_PATH_INVALID', `guest path must be absolute and contain no NUL: ${JSON.stringify(path)}`, { path });
  }
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      throw new WarrenError('E_PATH_INVALID', `guest path must not contain "..": ${JSON.stringify(path)}`, { path });
    }
    out.push(c);
  }
  return '/' + out.join('/');
}

/** Builds a MountTable like wasmtime-wasi's WasiCtxBuilder builds preopens. */
export class MountTableBuilder {
  private readonly mounts: Mount[] = [];
  private readonly readOnly = new Set<string>();

  mount(guestPath: string, hostPath: string, mode: MountMode = 'rw', opts: { lower?: string } = {}): this {
    const guest = normalizeGuestPath(guestPath);
    if (mode !== 'ro' && mode !== 'rw') {
      throw new WarrenError('E_BAD_REQUEST', `mount mode must be "ro" or "rw", got ${JSON.stringify(mode)}`);
    }
    if (this.mounts.some((m) => m.guestPath === guest)) {
      throw new WarrenError('E_CONFLICT', `two mounts at guest path ${guest}`, { guestPath: guest });
    }
    if (!hostPath) throw new WarrenError('E_PATH_INVALID', `mount ${guest} has an empty host path`);
    if (opts.lower !== undefined && !opts.lower) throw new WarrenError('E_PATH_INVALID', `mount ${guest} has an empty lower path`);
    this.mounts.push(opts.lower === undefined ? { guestPath: guest, hostPath, mode } : { guestPath: guest, hostPath, mode, lowerPath: opts.lower });
    return this;
  }

  readOnlyFile(guestPath: string): this {
    this.readOnly.add(normalizeGuestPath(guestPath));
    return this;
  }

  build(): MountTable {
    return { mounts: this.mounts.map((m) => ({ ...m })), readOnlyFiles: [...this.readOnly].sort() };
  }
}

/** The mount whose guest path is the longest prefix of `guestPath` (a normalized absolute path). */
export function findMount(mounts: readonly Mount[], guestPath: string): { index: number; rel: string } | null {
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < mounts.length; i++) {
    const g = mounts[i]!.guestPath;
    const inside = g === '/' || guestPath === g || guestPath.startsWith(g + '/');
    if (inside && g.length > bestLen) {
      best = i;
      bestLen = g.length;
    }
  }
  if (best < 0) return null;
  const g = mounts[best]!.guestPath;
  const rel = g === '/' ? guestPath.slice(1) : guestPath.slice(g.length + 1);
  return { index: best, rel };
}

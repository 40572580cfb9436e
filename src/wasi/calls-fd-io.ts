import { fstatSync, lstatSync, readdirSync, readSync, writeSync, type Dirent } from 'node:fs';
import { E, Errno, FDFLAGS, FILETYPE, R, WHENCE } from './abi.js';
import type { Syscall } from './calls-proc.js';
import type { DirListing, FdEntry } from './fd-table.js';
import { layersOf, type OverlayMount } from './overlay-resolve.js';
import { fdPath } from './path-resolver.js';
import { needRight } from './rights.js';
import type { WasiContext } from './wasi-context.js';

function direntType(d: Dirent): number {
  if (d.isFile()) return FILETYPE.REGULAR_FILE;
  if (d.isDirectory()) return FILETYPE.DIRECTORY;
  if (d.isSymbolicLink()) return FILETYPE.SYMBOLIC_LINK;
  if (d.isCharacterDevice()) return FILETYPE.CHARACTER_DEVICE;
  if (d.isBlockDevice()) return FILETYPE.BLOCK_DEVICE;
  if (d.isSocket()) return FILETYPE.SOCKET_STREAM;
  return FILETYPE.UNKNOWN;
}

/**
 * A directory's entries, `.` and `..` first. On an overlay mount, the union: the upper
 * directory's entries, then the lower one's that no upper name shadows. Cookies are indexes
 * into this list, which the fd keeps from cookie 0 on, so they stay stable across calls.
 */
function readListing(e: FdEntry, upper: string | null, lower: string | null): DirListing {
  const entries = upper === null ? [] : readdirSync(upper, { withFileTypes: true });
  const lowerFrom = entries.length + 2;
  if (lower !== null) {
    const shadowed = new Set<string>();
    for (const d of entries) shadowed.add(d.name);
    for (const d of readdirSync(lower, { withFileTypes: true })) if (!shadowed.has(d.name)) entries.push(d);
  }
  const names = ['.', '..'];
  const types = new Uint8Array(entries.length + 2);
  const inos = new Float64Array(entries.length + 2).fill(-1);
  types[0] = types[1] = FILETYPE.DIRECTORY;
  inos[0] = inos[1] = e.ino;
  for (let i = 0; i < entries.length; i++) {
    names.push(entries[i]!.name);
    types[i + 2] = direntType(entries[i]!);
  }
  return { names, types, inos, lowerFrom };
}

/** fd_read/fd_pread/fd_write/fd_pwrite/fd_seek/fd_tell/fd_readdir: the hot paths. */
const { FD_READ, FD_WRITE } = R;

export function fdIoCalls(ctx: WasiContext): Record<string, Syscall> {
  const header = new DataView(new ArrayBuffer(24));
  const headerBytes = new Uint8Array(header.buffer);

  // A write without FD_WRITE (never had it, or dropped it) is EBADF, as a read without FD_READ.
  const writable = (e: FdEntry): void => {
    if (e.writable && e.kind === 'file' && (e.rightsDropped & FD_WRITE) === 0) return;
    if (e.kind !== 'file') throw new Errno(e.kind === 'stdin' ? E.BADF : e.kind === 'dir' ? E.BADF : E.SPIPE);
    throw new Errno(e.readOnly && !e.writable ? E.ROFS : E.BADF);
  };

  /** Writes the iovecs at `pos` on a file fd; returns the bytes written. */
  const writeFile = (e: FdEntry, iovs: number, n: number, pos: number): number => {
    const dv = ctx.view();
    const mem = ctx.bytes();
    if (ctx.quota) {
      let want = 0;
      for (let i = 0; i < n; i++) want += dv.getUint32(iovs + 8 * i + 4, true);
      const size = fstatSync(e.hostFd).size;
      if (pos + want > size) ctx.quota.grow(pos + want - size);
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const buf = dv.getUint32(iovs + 8 * i, true);
      const len = dv.getUint32(iovs + 8 * i + 4, true);
      if (len === 0) continue;
      const w = writeSync(e.hostFd, mem, buf, len, pos + total);
      total += w;
      if (w < len) break;
    }
    return total;
  };

  const readFile = (e: FdEntry, iovs: number, n: number, pos: number): number => {
    const dv = ctx.view();
    const mem = ctx.bytes();
    let total = 0;
    for (let i = 0; i < n; i++) {
      const buf = dv.getUint32(iovs + 8 * i, true);
      const len = dv.getUint32(iovs + 8 * i + 4, true);
      if (len === 0) continue;
      if (buf + len > mem.byteLength) throw new RangeError('iovec out of bounds');
      const r = readSync(e.hostFd, mem, buf, len, pos + total);
      total += r;
      if (r < len) break;
    }
    return total;
  };

  const readable = (e: FdEntry): void => {
    if (e.kind !== 'file' || !e.readable || (e.rightsDropped & FD_READ) !== 0) throw new Errno(E.BADF);
  };

  return {
    fd_write: ((fd: number, iovs: number, n: number, out: number) => {
      const e = ctx.fds.entries[fd];
      if (e === undefined) return E.BADF;
      let total = 0;
      if (e.kind === 'file') {
        writable(e);
        const pos = (e.fdflags & FDFLAGS.APPEND) !== 0 ? fstatSync(e.hostFd).size : e.offset;
        total = writeFile(e, iovs, n, pos);
        e.offset = pos + total;
      } else if (e.kind === 'stdout' || e.kind === 'stderr') {
        const sink = e.kind === 'stdout' ? ctx.stdout : ctx.stderr;
        const dv = ctx.view();
        for (let i = 0; i < n; i++) {
          const len = dv.getUint32(iovs + 8 * i + 4, true);
          if (len === 0) continue;
          const w = ctx.writeOutput(sink, dv.getUint32(iovs + 8 * i, true), len);
          total += w;
          if (w < len) break;
        }
      } else {
        return E.BADF;
      }
      ctx.view().setUint32(out, total, true);
      return E.SUCCESS;
    }) as Syscall,

    fd_pwrite: ((fd: number, iovs: number, n: number, offset: bigint, out: number) => {
      const e = ctx.fds.get(fd);
      writable(e);
      // In append mode the offset is ignored and the bytes go to the end, as Linux's pwrite does
      // and wasmtime's fd_pwrite with it.
      const pos = (e.fdflags & FDFLAGS.APPEND) !== 0 ? fstatSync(e.hostFd).size : Number(offset);
      const total = writeFile(e, iovs, n, pos);
      ctx.view().setUint32(out, total, true);
      return E.SUCCESS;
    }) as Syscall,

    fd_read: ((fd: number, iovs: number, n: number, out: number) => {
      const e = ctx.fds.get(fd);
      let total = 0;
      if (e.kind === 'stdin') {
        const dv = ctx.view();
        for (let i = 0; i < n; i++) {
          const len = dv.getUint32(iovs + 8 * i + 4, true);
          if (len === 0) continue;
          const buf = dv.getUint32(iovs + 8 * i, true);
          const mem = ctx.bytes();
          if (buf + len > mem.byteLength) throw new RangeError('iovec out of bounds');
          total = ctx.stdin.read(mem, buf, len);
          break;
        }
      } else {
        readable(e);
        total = readFile(e, iovs, n, e.offset);
        e.offset += total;
      }
      ctx.view().setUint32(out, total, true);
      return E.SUCCESS;
    }) as Syscall,

    fd_pread: ((fd: number, iovs: number, n: number, offset: bigint, out: number) => {
      const e = ctx.fds.get(fd);
      if (e.kind === 'stdin') throw new Errno(E.SPIPE);
      readable(e);
      const total = readFile(e, iovs, n, Number(offset));
      ctx.view().setUint32(out, total, true);
      return E.SUCCESS;
    }) as Syscall,

    fd_seek: ((fd: number, offset: bigint, whence: number, out: number) => {
      const e = ctx.fds.get(fd);
      if (e.kind !== 'file') throw new Errno(e.kind === 'dir' ? E.BADF : E.SPIPE);
      // As wasi-common: asking where the offset is needs FD_TELL, moving it FD_SEEK too.
      needRight(e, offset === 0n && whence === WHENCE.CUR ? R.FD_TELL : R.FD_SEEK | R.FD_TELL);
      const delta = Number(offset);
      let pos: number;
      if (whence === WHENCE.SET) pos = delta;
      else if (whence === WHENCE.CUR) pos = e.offset + delta;
      else if (whence === WHENCE.END) pos = fstatSync(e.hostFd).size + delta;
      else throw new Errno(E.INVAL);
      if (pos < 0 || !Number.isSafeInteger(pos)) throw new Errno(E.INVAL);
      e.offset = pos;
      ctx.view().setBigUint64(out, BigInt(pos), true);
      return E.SUCCESS;
    }) as Syscall,

    fd_tell: ((fd: number, out: number) => {
      const e = ctx.fds.get(fd);
      if (e.kind !== 'file') throw new Errno(e.kind === 'dir' ? E.BADF : E.SPIPE);
      needRight(e, R.FD_TELL);
      ctx.view().setBigUint64(out, BigInt(e.offset), true);
      return E.SUCCESS;
    }) as Syscall,

    fd_readdir: ((fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number) => {
      const e = ctx.fds.get(fd);
      if (e.kind !== 'dir') throw new Errno(E.BADF); // wasmtime's get_dir_fd: a file is EBADF here, not ENOTDIR
      needRight(e, R.FD_READDIR);
      // The directory in each layer (host paths through fds): the fd's own, and on an overlay
      // mount the other layer's at the same path, found again at each call (see overlay-resolve.ts).
      let dir: string | null = fdPath(e.hostFd, e.hostPath);
      let lowerDir: string | null = null;
      const mount = ctx.mounts[e.mount]!;
      if (mount.lowerPath !== undefined) {
        const [u, l] = layersOf(ctx.resolver, e, mount as OverlayMount);
        dir = u?.path ?? null;
        lowerDir = l?.path ?? null;
      }
      if (cookie === 0n || e.listing === null) e.listing = readListing(e, dir, lowerDir);
      const { names, types, inos, lowerFrom } = e.listing;
      const mem = ctx.bytes();
      if (buf + bufLen > mem.byteLength) throw new RangeError('readdir buffer out of bounds');
      let cap = bufLen;
      let p = buf;
      for (let k = Number(cookie); k < names.length && cap > 0; k++) {
        const name = Buffer.from(names[k]!, 'utf8');
        if (inos[k]! < 0) {
          const at = k < lowerFrom ? dir : lowerDir;
          inos[k] = at === null ? 0 : lstatSync(`${at}/${names[k]}`, { throwIfNoEntry: false })?.ino ?? 0;
        }
        header.setBigUint64(0, BigInt(k + 1), true);
        header.setBigUint64(8, BigInt(inos[k]!), true);
        header.setUint32(16, name.byteLength, true);
        header.setUint8(20, types[k]!);
        const h = Math.min(cap, 24);
        mem.set(h === 24 ? headerBytes : headerBytes.subarray(0, h), p);
        p += h;
        cap -= h;
        const m = Math.min(cap, name.byteLength);
        mem.set(m === name.byteLength ? name : name.subarray(0, m), p);
        p += m;
        cap -= m;
      }
      ctx.view().setUint32(usedPtr, bufLen - cap, true);
      return E.SUCCESS;
    }) as Syscall,
  };
}

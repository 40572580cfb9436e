import { constants, fstatSync, lstatSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import { E, Errno } from './abi.js';
import type { DiskQuota } from './disk-quota.js';
import { closeQuietly, type FdEntry, type FdTable } from './fd-table.js';
import { parentOf } from './link-containment.js';
import type { Mount } from './mount-table.js';
import { lstatModeAt, openAt, S_IFDIR, S_IFMT } from './open-at.js';
import { makeUpperDir, resolveInMount, type OverlayMount } from './overlay-resolve.js';
import { fdPath, PathResolver, type Resolved } from './path-resolver.js';
import type { ReadOnlySet } from './read-only-set.js';
import { StdinReader, writeToSink, type OutputSink } from './stdio.js';

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function encodeAll(strings: string[]): Buffer[] {
  return strings.map((s) => Buffer.from(s + '\0', 'utf8'));
}

/** A resolved guest path together with the directory fd it was resolved from. */
export interface GuestPath extends Resolved {
  dir: FdEntry;
  mount: Mount;
  guestPath: string;
}

/**
 * The state every syscall group works on: memory views, fd table, mounts, read-only set and
 * limits. The syscall files are thin functions over this object.
 */
export class WasiContext {
  memory: WebAssembly.Memory | null = null;
  private u8 = new Uint8Array(0);
  private dv = new DataView(new ArrayBuffer(0));
  readonly resolver = new PathResolver();
  outputBytes = 0;
  outputLimitExceeded = false;
  /** False on the API thread: sleeping there would stall every request (see InlineYield). */
  mayBlock = true;
  /** Guest paths whose opening for write was refused as read-only (first few), for messages. */
  readonly refusedWrites: string[] = [];
  stdin: StdinReader;

  /** args and environ as the guest reads them (NUL-terminated UTF-8), encoded once per run. */
  encodedArgs: Buffer[];
  encodedEnv: Buffer[];

  /**
   * Everything here but the resolver's cache belongs to one run; WasiHost.reset gives a reused
   * host a new run by assigning these fields (the syscall closures hold this object, not them).
   */
  constructor(
    public args: string[],
    public env: Record<string, string>,
    public mounts: Mount[],
    public readOnly: ReadOnlySet,
    public fds: FdTable,
    stdin: StdinReader,
    public stdout: OutputSink,
    public stderr: OutputSink,
    public maxOutputBytes: number,
    public quota: DiskQuota | null,
  ) {
    this.stdin = stdin;
    this.encodedArgs = encodeAll(args);
    this.encodedEnv = encodeAll(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  }

  /** Starts a new run on this context: the caller has closed the previous run's fds. */
  renew(args: string[], env: Record<string, string>, mounts: Mount[], readOnly: ReadOnlySet, fds: FdTable, stdin: StdinReader,
    stdout: OutputSink, stderr: OutputSink, maxOutputBytes: number): void {
    this.args = args;
    this.env = env;
    this.encodedArgs = encodeAll(args);
    this.encodedEnv = encodeAll(Object.entries(env).map(([k, v]) => `${k}=${v}`));
    this.mounts = mounts;
    this.readOnly = readOnly;
    this.fds = fds;
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
    this.maxOutputBytes = maxOutputBytes;
    this.quota = null;
    this.outputBytes = 0;
    this.outputLimitExceeded = false;
    this.refusedWrites.length = 0;
    this.memory = null;
    this.u8 = new Uint8Array(0);
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.u8 = new Uint8Array(0);
  }

  /** The guest's memory as bytes; re-made after memory.grow detached the old buffer. */
  bytes(): Uint8Array {
    if (this.u8.byteLength === 0) this.refresh();
    return this.u8;
  }

  view(): DataView {
    if (this.u8.byteLength === 0) this.refresh();
    return this.dv;
  }

  private refresh(): void {
    if (!this.memory) throw new Error('WASI call before the guest memory was bound (call start, initialize or bind)');
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
  }

  readString(ptr: number, len: number): string {
    const b = this.bytes();
    if (ptr + len > b.byteLength) throw new RangeError('path pointer out of bounds');
    try {
      return utf8.decode(b.subarray(ptr, ptr + len));
    } catch {
      throw new Errno(E.ILSEQ);
    }
  }

  /** Writes guest bytes to stdout/stderr within the output cap; returns bytes accepted. */
  writeOutput(sink: OutputSink, off: number, len: number): number {
    let n = len;
    const room = this.maxOutputBytes - this.outputBytes;
    if (n > room) {
      this.outputLimitExceeded = true;
      if (room <= 0) throw new Errno(E.FBIG);
      n = room;
    }
    writeToSink(sink, this.bytes(), off, n);
    this.outputBytes += n;
    return n;
  }

  /** A directory fd to resolve paths from (ENOTDIR for files, EBADF for stdio and unknown fds). */
  dirEntry(fd: number): FdEntry {
    const e = this.fds.get(fd);
    if (e.kind === 'dir') return e;
    throw new Errno(e.kind === 'file' ? E.NOTDIR : E.BADF);
  }

  /** Resolves a guest path from directory fd `fd`, which must still hold `right` (see rights.ts). */
  resolve(fd: number, pathPtr: number, pathLen: number, follow: boolean, right = 0, forOpen = false): GuestPath {
    const dir = this.dirEntry(fd);
    if ((dir.rightsDropped & right) !== 0) throw new Errno(E.NOTCAPABLE);
    const path = this.readString(pathPtr, pathLen);
    const mount = this.mounts[dir.mount]!;
    const r = resolveInMount(this.resolver, dir, mount, path, follow, forOpen);
    return { ...r, dir, mount, guestPath: this.guestPathOf(dir.mount, r.mountRel) };
  }

  /** Remembers a refused write for the caller's message, and returns the errno to throw. */
  refuse(guestPath: string, errno: number): Errno {
    if (this.refusedWrites.length < 16 && !this.refusedWrites.includes(guestPath)) this.refusedWrites.push(guestPath);
    return new Errno(errno);
  }

  guestPathOf(mountIndex: number, mountRel: string): string {
    const g = this.mounts[mountIndex]!.guestPath;
    if (mountRel === '') return g;
    return g === '/' ? `/${mountRel}` : `${g}/${mountRel}`;
  }

  /**
   * lstat of what a resolved path names. When it names the base directory itself, its handle
   * path is a /proc magic link, so the directory's own fd is asked instead.
   */
  lstatTarget(p: GuestPath): Stats | null {
    if (p.name === '') return fstatSync(p.parentFd);
    return lstatSync(p.target, { throwIfNoEntry: false }) ?? null;
  }

  lstatTargetBig(p: GuestPath): BigIntStats {
    if (p.name === '') return fstatSync(p.parentFd, { bigint: true });
    return lstatSync(p.target, { bigint: true });
  }

  /** `st` is any identity of the file (a Stats, or path_open's dev:ino of the opened fd). */
  isReadOnlyFile(st: { dev: number; ino: number; isDirectory(): boolean } | null, guestPath: string): boolean {
    if (this.readOnly.empty) return false;
    if (st && !st.isDirectory() && this.readOnly.hasId(st.dev, st.ino)) return true;
    return this.readOnly.hasPath(guestPath);
  }

  /** An existing name that no guest call may take over (link or symlink onto it): a read-only file, or a file of an overlay's lower layer. */
  isReadOnlyName(p: GuestPath, st: Stats): boolean {
    return (p.lower && !st.isDirectory()) || this.isReadOnlyFile(st, p.guestPath);
  }

  /**
   * Refuses a change to an existing name: EROFS in a ro mount, `roErrno` (EPERM for
   * unlink/rename/set-times) for a read-only file or anything of an overlay's lower layer, and
   * EPERM for moving a directory holding a read-only file (it would get a path the set does not
   * know) or one the lower layer has too (its lower part cannot move).
   */
  checkMutable(p: GuestPath, st: Stats | null, roErrno: number, movesName: boolean): void {
    if (p.mount.mode === 'ro') throw new Errno(E.ROFS);
    if (p.lower || this.isReadOnlyFile(st, p.guestPath)) throw new Errno(roErrno);
    if (movesName && st && st.isDirectory()) {
      if (!this.readOnly.empty && this.readOnly.hasPathUnder(p.guestPath)) throw new Errno(E.PERM);
      if (this.inLowerLayer(p)) throw new Errno(E.PERM);
    }
  }

  /** On an overlay mount: the lower layer has a directory where `p` is (for a name found upper, a merged directory). */
  inLowerLayer(p: GuestPath): boolean {
    if (p.lower) return true;
    if (p.lowerParentFd < 0) return false;
    if (p.name === '') return true;
    return (lstatModeAt(p.lowerParentFd, p.lowerParent, p.name) & S_IFMT) === S_IFDIR;
  }

  /** rmdir of a directory the lower layer has: ENOTEMPTY when it holds entries there, else EPERM (it cannot go). */
  lowerDirErrno(p: GuestPath): number {
    const fd = openAt(p.lowerParentFd, p.lowerParent, p.name, O_DIR);
    try {
      return readdirSync(fdPath(fd, `${p.lowerParent}/${p.name}`)).length > 0 ? E.NOTEMPTY : E.PERM;
    } finally {
      closeQuietly(fd);
    }
  }

  /**
   * Points `p` at the upper layer's directory for making the new name `p.name`: on an overlay
   * mount, when only the lower layer has the parent, its directory chain is made in the upper
   * layer first (WasiContext never makes a name in the lower layer). No-op on plain mounts.
   */
  upperParent(p: GuestPath): void {
    if (p.mount.lowerPath !== undefined) this.resolver.upperChanged();
    if (p.upperParentFd >= 0) return;
    const dir = makeUpperDir(this.resolver, p.mount as OverlayMount, parentOf(p.mountRel));
    p.parent = dir.path;
    p.parentFd = dir.fd;
    p.upperParentFd = dir.fd;
    p.target = `${dir.path}/${p.name}`;
  }
}

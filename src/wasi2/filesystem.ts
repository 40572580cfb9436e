import { FDFLAGS, FILETYPE, FSTFLAGS, LOOKUP_SYMLINK_FOLLOW, OFLAGS, R, RIGHTS_ALL, WHENCE } from '../wasi/abi.js';
import { errorCodeOf, fsCall } from './error-codes.js';
import { DISPOSE, InputStream, OutputStream, failed, type PollContext } from './io-streams.js';
import type { Preview1Bridge } from './preview1-bridge.js';

/**
 * wasi:filesystem/types over Warren's preview1 host (see Preview1Bridge): a descriptor is a
 * preview1 fd of that host, every path goes through its resolver (escapes refused, links
 * followed only inside the mount), every write through its read-only set and quota. This file
 * only translates shapes: flags, stats, streams, error codes.
 */

export interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  fileIntegritySync?: boolean;
  dataIntegritySync?: boolean;
  requestedWriteSync?: boolean;
  mutateDirectory?: boolean;
}
interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}
interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };

const TYPES: Record<number, string> = {
  [FILETYPE.UNKNOWN]: 'unknown', [FILETYPE.BLOCK_DEVICE]: 'block-device', [FILETYPE.CHARACTER_DEVICE]: 'character-device',
  [FILETYPE.DIRECTORY]: 'directory', [FILETYPE.REGULAR_FILE]: 'regular-file', [FILETYPE.SOCKET_DGRAM]: 'socket',
  [FILETYPE.SOCKET_STREAM]: 'socket', [FILETYPE.SYMBOLIC_LINK]: 'symbolic-link',
};
const ADVICE: Record<string, number> = { normal: 0, sequential: 1, random: 2, 'will-need': 3, 'dont-need': 4, 'no-reuse': 5 };
/** Rights a descriptor asks of the preview1 host besides read/write: everything else it may do. */
const OTHER_RIGHTS = RIGHTS_ALL & ~(R.FD_READ | R.FD_READDIR | R.FD_WRITE);

export class Descriptor {
  constructor(
    private readonly bridge: Preview1Bridge,
    private readonly io: PollContext,
    readonly fd: number,
    readonly flags: DescriptorFlags,
    readonly type: string,
    /** Preopens stay open when the guest drops its handle: the next getDirectories hands them out again. */
    readonly preopen = false,
  ) {}

  readViaStream(offset: bigint): InputStream {
    const origin = { kind: 'file' as const, fd: this.fd, at: offset };
    return new InputStream(
      this.io,
      (max) => {
        try {
          const bytes = this.pread(max, origin.at);
          origin.at += BigInt(bytes.byteLength);
          return bytes;
        } catch (err) {
          throw failed('read failed', errorCodeOf(err));
        }
      },
      origin,
    );
  }

  writeViaStream(offset: bigint): OutputStream {
    const origin = { kind: 'file' as const, fd: this.fd, at: offset };
    return new OutputStream(
      this.io,
      (bytes) => {
        try {
          origin.at += BigInt(this.pwriteAll(bytes, origin.at));
        } catch (err) {
          throw failed('write failed', errorCodeOf(err));
        }
      },
      origin,
    );
  }

  appendViaStream(): OutputStream {
    return new OutputStream(
      this.io,
      (bytes) => {
        try {
          this.bridge.call('fd_seek', this.fd, 0n, WHENCE.END, this.bridge.out(0));
          this.pwriteAll(bytes, this.bridge.u64(this.bridge.out(0)));
        } catch (err) {
          throw failed('append failed', errorCodeOf(err));
        }
      },
      { kind: 'file', fd: this.fd, at: null },
    );
  }

  advise(offset: bigint, length: bigint, advice: string): void {
    fsCall(() => this.bridge.call('fd_advise', this.fd, offset, length, ADVICE[advice] ?? 0));
  }

  syncData(): void {
    fsCall(() => this.bridge.call('fd_datasync', this.fd));
  }

  sync(): void {
    fsCall(() => this.bridge.call('fd_sync', this.fd));
  }

  getFlags(): DescriptorFlags {
    return { ...this.flags };
  }

  getType(): string {
    return this.type;
  }

  setSize(size: bigint): void {
    this.needsWrite();
    fsCall(() => this.bridge.call('fd_filestat_set_size', this.fd, size));
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    const [a, m, flags] = timestamps(atime, mtime);
    fsCall(() => this.bridge.call('fd_filestat_set_times', this.fd, a, m, flags));
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const want = Number(length > 1n << 24n ? 1n << 24n : length);
    const bytes = fsCall(() => this.pread(want, offset));
    return [bytes, bytes.byteLength < want];
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    this.needsWrite();
    return BigInt(fsCall(() => this.pwriteAll(buffer, offset)));
  }

  readDirectory(): DirectoryEntryStream {
    return new DirectoryEntryStream(fsCall(() => this.listDirectory()));
  }

  createDirectoryAt(path: string): void {
    this.needsMutate();
    fsCall(() => this.bridge.call('path_create_directory', this.fd, ...this.bridge.string(path)));
  }

  stat(): object {
    return fsCall(() => {
      this.bridge.call('fd_filestat_get', this.fd, this.bridge.FILESTAT);
      return this.readStat();
    });
  }

  statAt(pathFlags: PathFlags, path: string): object {
    return fsCall(() => {
      this.bridge.call('path_filestat_get', this.fd, lookup(pathFlags), ...this.bridge.string(path), this.bridge.FILESTAT);
      return this.readStat();
    });
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    this.needsMutate();
    const [a, m, flags] = timestamps(atime, mtime);
    fsCall(() => this.bridge.call('path_filestat_set_times', this.fd, lookup(pathFlags), ...this.bridge.string(path), a, m, flags));
  }

  linkAt(oldPathFlags: PathFlags, oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    newDescriptor.needsMutate();
    fsCall(() => this.bridge.call('path_link', this.fd, lookup(oldPathFlags), ...this.bridge.string(oldPath), newDescriptor.fd, ...this.bridge.string(newPath)));
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    // A descriptor gives no more than it has: wasmtime's rule for mutate-directory and write.
    if ((flags.write || openFlags.create || openFlags.truncate || flags.mutateDirectory) && !this.flags.mutateDirectory) throw 'read-only';
    const oflags = (openFlags.create ? OFLAGS.CREAT : 0) | (openFlags.directory ? OFLAGS.DIRECTORY : 0) | (openFlags.exclusive ? OFLAGS.EXCL : 0) | (openFlags.truncate ? OFLAGS.TRUNC : 0);
    const rights = OTHER_RIGHTS | (flags.read ? R.FD_READ | R.FD_READDIR : 0) | (flags.write ? R.FD_WRITE : 0);
    const fdflags = (flags.dataIntegritySync ? FDFLAGS.DSYNC : 0) | (flags.fileIntegritySync ? FDFLAGS.SYNC : 0) | (flags.requestedWriteSync ? FDFLAGS.RSYNC : 0);
    const fd = fsCall(() => {
      const out = this.bridge.out(0);
      this.bridge.call('path_open', this.fd, lookup(pathFlags), ...this.bridge.string(path), oflags, BigInt(rights), BigInt(rights), fdflags, out);
      return this.bridge.u32(out);
    });
    try {
      const type = fsCall(() => {
        this.bridge.call('fd_fdstat_get', fd, this.bridge.out(0));
        return TYPES[this.bridge.byte(this.bridge.out(0))] ?? 'unknown';
      });
      const isDir = type === 'directory';
      return new Descriptor(this.bridge, this.io, fd, { ...flags, mutateDirectory: isDir && Boolean(flags.mutateDirectory) }, type);
    } catch (err) {
      this.bridge.call('fd_close', fd);
      throw err;
    }
  }

  readlinkAt(path: string): string {
    return fsCall(() => {
      const [p, len] = this.bridge.string(path);
      const buf = this.bridge.alloc(4096);
      const out = this.bridge.out(0);
      this.bridge.call('path_readlink', this.fd, p, len, buf, 4096, out);
      return this.bridge.text(buf, this.bridge.u32(out));
    });
  }

  removeDirectoryAt(path: string): void {
    this.needsMutate();
    fsCall(() => this.bridge.call('path_remove_directory', this.fd, ...this.bridge.string(path)));
  }

  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    this.needsMutate();
    newDescriptor.needsMutate();
    fsCall(() => this.bridge.call('path_rename', this.fd, ...this.bridge.string(oldPath), newDescriptor.fd, ...this.bridge.string(newPath)));
  }

  symlinkAt(oldPath: string, newPath: string): void {
    this.needsMutate();
    fsCall(() => this.bridge.call('path_symlink', ...this.bridge.string(oldPath), this.fd, ...this.bridge.string(newPath)));
  }

  unlinkFileAt(path: string): void {
    this.needsMutate();
    fsCall(() => this.bridge.call('path_unlink_file', this.fd, ...this.bridge.string(path)));
  }

  isSameObject(other: Descriptor): boolean {
    const a = this.identity();
    const b = other.identity();
    return a[0] === b[0] && a[1] === b[1];
  }

  metadataHash(): { lower: bigint; upper: bigint } {
    const [dev, ino] = this.identity();
    return { lower: ino, upper: dev };
  }

  metadataHashAt(pathFlags: PathFlags, path: string): { lower: bigint; upper: bigint } {
    return fsCall(() => {
      this.bridge.call('path_filestat_get', this.fd, lookup(pathFlags), ...this.bridge.string(path), this.bridge.FILESTAT);
      return { lower: this.bridge.u64(8), upper: this.bridge.u64(0) };
    });
  }

  [DISPOSE](): void {
    if (this.preopen) return;
    try {
      this.bridge.call('fd_close', this.fd);
    } catch {
      // already closed with its host (the run ended)
    }
  }

  private identity(): [bigint, bigint] {
    return fsCall(() => {
      this.bridge.call('fd_filestat_get', this.fd, this.bridge.FILESTAT);
      return [this.bridge.u64(0), this.bridge.u64(8)];
    });
  }

  private needsWrite(): void {
    if (!this.flags.write) throw 'bad-descriptor';
  }

  private needsMutate(): void {
    if (!this.flags.mutateDirectory) throw 'read-only';
  }

  private pread(max: number, offset: bigint): Uint8Array {
    const [iov, buf] = this.bridge.iovec(max);
    const out = this.bridge.out(0);
    this.bridge.call('fd_pread', this.fd, iov, 1, offset, out);
    return this.bridge.copy(buf, this.bridge.u32(out));
  }

  private pwriteAll(bytes: Uint8Array, offset: bigint): number {
    let done = 0;
    while (done < bytes.byteLength) {
      const chunk = bytes.subarray(done);
      const [iov] = this.bridge.iovec(chunk.byteLength, chunk);
      const out = this.bridge.out(0);
      this.bridge.call('fd_pwrite', this.fd, iov, 1, offset + BigInt(done), out);
      const n = this.bridge.u32(out);
      if (n === 0) throw 'io';
      done += n;
    }
    return done;
  }

  private readStat(): object {
    const b = this.bridge;
    const at = b.FILESTAT;
    const time = (ns: bigint): Datetime => ({ seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) });
    return {
      type: TYPES[b.byte(at + 16)] ?? 'unknown',
      linkCount: b.u64(at + 24),
      size: b.u64(at + 32),
      dataAccessTimestamp: time(b.u64(at + 40)),
      dataModificationTimestamp: time(b.u64(at + 48)),
      statusChangeTimestamp: time(b.u64(at + 56)),
    };
  }

  /** Every entry but `.` and `..`, read with fd_readdir from cookie 0. */
  private listDirectory(): { name: string; type: string }[] {
    const entries: { name: string; type: string }[] = [];
    const size = 64 * 1024;
    let cookie = 0n;
    for (;;) {
      const buf = this.bridge.alloc(size);
      const out = this.bridge.out(0);
      this.bridge.call('fd_readdir', this.fd, buf, size, cookie, out);
      const used = this.bridge.u32(out);
      let at = 0;
      let progressed = false;
      while (at + 24 <= used) {
        const next = this.bridge.u64(buf + at);
        const nameLen = this.bridge.u32(buf + at + 16);
        if (at + 24 + nameLen > used) break;
        const name = this.bridge.text(buf + at + 24, nameLen);
        if (name !== '.' && name !== '..') entries.push({ name, type: TYPES[this.bridge.byte(buf + at + 20)] ?? 'unknown' });
        cookie = next;
        progressed = true;
        at += 24 + nameLen;
      }
      if (used < size) return entries;
      if (!progressed) throw 'name-too-long';
    }
  }
}

export class DirectoryEntryStream {
  constructor(
    /** The listing, read whole when the stream was opened; `at` is the next entry to give. */
    readonly entries: { name: string; type: string }[],
    public at = 0,
  ) {}

  readDirectoryEntry(): { name: string; type: string } | undefined {
    return this.entries[this.at++];
  }
}

/** wasi:filesystem/types.filesystem-error-code: the code of a stream's error, when it came from the filesystem. */
export function filesystemErrorCode(err: { fsCode?: string }): string | undefined {
  return err.fsCode;
}

function lookup(flags: PathFlags): number {
  return flags.symlinkFollow ? LOOKUP_SYMLINK_FOLLOW : 0;
}

function timestamps(atime: NewTimestamp, mtime: NewTimestamp): [bigint, bigint, number] {
  const ns = (t: NewTimestamp) => (t.tag === 'timestamp' ? t.val.seconds * 1_000_000_000n + BigInt(t.val.nanoseconds) : 0n);
  let flags = 0;
  if (atime.tag === 'now') flags |= FSTFLAGS.ATIM_NOW;
  else if (atime.tag === 'timestamp') flags |= FSTFLAGS.ATIM;
  if (mtime.tag === 'now') flags |= FSTFLAGS.MTIM_NOW;
  else if (mtime.tag === 'timestamp') flags |= FSTFLAGS.MTIM;
  return [ns(atime), ns(mtime), flags];
}

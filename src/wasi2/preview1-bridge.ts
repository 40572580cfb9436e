import { E } from '../wasi/abi.js';
import { WasiHost, type WasiHostOptions, type WasiState } from '../wasi/index.js';

type Call = (...args: (number | bigint)[]) => number;

const PAGE = 65536;
/** Out-parameters live below this offset of the scratch memory; strings and buffers above it. */
const OUT_AREA = 256;

/**
 * Warren's preview1 host, driven from the WASI 0.2 host through its own syscalls. Every
 * filesystem and stdio operation of a component goes through the very code a preview1 guest
 * goes through (mount table, path resolver, read-only set, quota, fd budget, output cap), so the
 * two hosts cannot disagree on what a guest may touch. The bridge owns a small scratch memory
 * that plays the guest's linear memory for those calls: arguments are written into it, results
 * read back. A failed call throws its preview1 errno (a number), which the 0.2 layer maps.
 */
export class Preview1Bridge {
  readonly host: WasiHost;
  private readonly calls: Record<string, Call>;
  private memory = new WebAssembly.Memory({ initial: 1 });
  private u8 = new Uint8Array(this.memory.buffer);
  private dv = new DataView(this.memory.buffer);
  private top = OUT_AREA;

  /** `restored`: a full snapshot's preview1 state (its args, env and mounts win over `opts`'). */
  constructor(opts: WasiHostOptions, restored?: WasiState) {
    this.host = restored ? WasiHost.restore(restored, opts) : new WasiHost(opts);
    this.host.bind(this.memory);
    this.calls = this.host.imports.wasi_snapshot_preview1 as Record<string, Call>;
  }

  /** Calls a preview1 syscall; throws its errno when it fails. Scratch space is reclaimed per call. */
  call(name: string, ...args: (number | bigint)[]): void {
    const errno = this.calls[name]!(...args);
    this.top = OUT_AREA;
    if (errno !== E.SUCCESS) throw errno;
  }

  /** Space for `n` bytes in the scratch memory (grown as needed); valid until the next call. */
  alloc(n: number): number {
    const at = this.top;
    const end = at + n;
    if (end > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
      this.u8 = new Uint8Array(this.memory.buffer);
      this.dv = new DataView(this.memory.buffer);
    }
    this.top = (end + 7) & ~7;
    return at;
  }

  /** Writes a string (UTF-8) into scratch memory: [ptr, len]. */
  string(s: string): [number, number] {
    const bytes = Buffer.from(s, 'utf8');
    const at = this.alloc(bytes.byteLength);
    this.u8.set(bytes, at);
    return [at, bytes.byteLength];
  }

  bytesIn(bytes: Uint8Array): number {
    const at = this.alloc(bytes.byteLength);
    this.u8.set(bytes, at);
    return at;
  }

  /** One iovec of `len` bytes at a fresh buffer: [iovec ptr, buffer ptr]. */
  iovec(len: number, data?: Uint8Array): [number, number] {
    const buf = data ? this.bytesIn(data) : this.alloc(len);
    const iov = this.alloc(8);
    this.dv.setUint32(iov, buf, true);
    this.dv.setUint32(iov + 4, len, true);
    return [iov, buf];
  }

  /** A copy of scratch bytes (out of the memory that the next call reuses). */
  copy(ptr: number, len: number): Uint8Array {
    return this.u8.slice(ptr, ptr + len);
  }

  u32(ptr: number): number {
    return this.dv.getUint32(ptr, true);
  }

  u64(ptr: number): bigint {
    return this.dv.getBigUint64(ptr, true);
  }

  byte(ptr: number): number {
    return this.u8[ptr]!;
  }

  text(ptr: number, len: number): string {
    return Buffer.from(this.u8.buffer, ptr, len).toString('utf8');
  }

  /** Out-parameter slot `i` (8 bytes each) below the string area, after the filestat. */
  out(i: number): number {
    return 128 + i * 8;
  }

  /** Where a preview1 filestat (64 bytes) is written. */
  readonly FILESTAT = 0;
}

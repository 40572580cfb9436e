import { fstatSync, readSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** stdin: a buffer, a host fd to read from (0 = inherit), or nothing (EOF). */
export type StdinSource = Uint8Array | { fd: number } | null;
/** stdout/stderr: a callback, a host fd to write to (1/2 = inherit), or nothing (discarded). */
export type OutputSink = ((chunk: Uint8Array) => void) | { fd: number } | null;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread (a guest thread may block; the API thread never runs guests). */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

function isAgain(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

export class StdinReader {
  private pos = 0;
  constructor(readonly source: StdinSource) {}

  /** Reads up to `len` bytes into `target` at `off`; 0 means end of input. */
  read(target: Uint8Array, off: number, len: number): number {
    const src = this.source;
    if (src === null) return 0;
    if (src instanceof Uint8Array) {
      const n = Math.min(len, src.byteLength - this.pos);
      if (n <= 0) return 0;
      target.set(src.subarray(this.pos, this.pos + n), off);
      this.pos += n;
      return n;
    }
    for (;;) {
      try {
        return readSync(src.fd, target, off, len, null);
      } catch (err) {
        if (err && (err as { code?: string }).code === 'EOF') return 0;
        if (!isAgain(err)) throw err;
        sleepMs(5);
      }
    }
  }

  get isTty(): boolean {
    return isFdTty(this.source);
  }
}

export function isFdTty(src: StdinSource | OutputSink): boolean {
  if (src === null || typeof src === 'function' || src instanceof Uint8Array) return false;
  try {
    return isatty(src.fd) && fstatSync(src.fd).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Writes all of `bytes[off, off+len)` to the sink (copying only for callbacks, which may keep it). */
export function writeToSink(sink: OutputSink, bytes: Uint8Array, off: number, len: number): void {
  if (sink === null || len === 0) return;
  if (typeof sink === 'function') {
    sink(bytes.slice(off, off + len));
    return;
  }
  let done = 0;
  while (done < len) {
    try {
      done += writeSync(sink.fd, bytes, off + done, len - done);
    } catch (err) {
      if (!isAgain(err)) throw err;
      sleepMs(1);
    }
  }
}

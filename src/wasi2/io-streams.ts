import { InlineYield } from '../wasi/index.js';
import { sleepMs } from '../wasi/stdio.js';

/**
 * wasi:io (error, poll, streams) as jco's glue expects host resources: classes whose methods
 * are the interface's, errors thrown as their WIT payload (a stream-error variant), never as
 * Error objects (an Error thrown by the host traps the guest, which is what host bugs should do).
 * Every stream here is synchronous (files, stdio buffers), so pollables of streams are ready at
 * once; only clock pollables wait.
 */

/** wasi:io/error.error: what went wrong, and the filesystem error-code when it was one. */
export class IoError {
  constructor(
    readonly message: string,
    readonly fsCode?: string,
  ) {}

  toDebugString(): string {
    return this.message;
  }
}

export type StreamError = { tag: 'closed' } | { tag: 'last-operation-failed'; val: IoError };

/** What jco's glue calls when the guest drops a host resource (`Symbol.dispose`, or its registry stand-in). */
export const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

export const CLOSED: StreamError = { tag: 'closed' };

export function failed(message: string, fsCode?: string): StreamError {
  return { tag: 'last-operation-failed', val: new IoError(message, fsCode) };
}

export interface PollContext {
  /** False on the API thread (inline jobs): a wait gives the run up instead (InlineYield). */
  mayBlock: boolean;
}

/** wasi:io/poll.pollable: ready at `deadline` (process.hrtime.bigint() ns), or at once when null. */
export class Pollable {
  constructor(
    private readonly ctx: PollContext,
    readonly deadline: bigint | null = null,
  ) {}

  ready(): boolean {
    return this.deadline === null || process.hrtime.bigint() >= this.deadline;
  }

  block(): void {
    waitUntil(this.ctx, this.deadline);
  }
}

function waitUntil(ctx: PollContext, deadline: bigint | null): void {
  if (deadline === null) return;
  let now: bigint;
  while ((now = process.hrtime.bigint()) < deadline) {
    if (!ctx.mayBlock) throw new InlineYield('wasi:io/poll');
    sleepMs(Math.max(1, Math.ceil(Number(deadline - now) / 1e6)));
  }
}

/** wasi:io/poll.poll: waits until at least one is ready; the indices of those that are. */
export function poll(ctx: PollContext, pollables: Pollable[]): Uint32Array {
  if (pollables.length === 0) throw new Error('wasi:io/poll.poll of an empty list');
  let ready = pollables.flatMap((p, i) => (p.ready() ? [i] : []));
  if (ready.length === 0) {
    const earliest = pollables.reduce((m, p) => (p.deadline !== null && p.deadline < m ? p.deadline : m), pollables[0]!.deadline!);
    waitUntil(ctx, earliest);
    ready = pollables.flatMap((p, i) => (p.ready() ? [i] : []));
  }
  return Uint32Array.from(ready);
}

/** What an input stream reads from: up to `max` bytes, an empty array at the end. Throws a StreamError. */
export type ByteSource = (max: number) => Uint8Array;
/** Where an output stream writes: all of `bytes`. Throws a StreamError. */
export type ByteSink = (bytes: Uint8Array) => void;

/**
 * Where a stream reads or writes, kept up to date as it moves, for full snapshots (see
 * resource-state.ts): stdio, or a file descriptor of the preview1 host at an offset (`at`,
 * absent when appending). A stream without one cannot be captured.
 */
export type StreamOrigin = { kind: 'stdin' | 'stdout' | 'stderr' } | { kind: 'file'; fd: number; at: bigint | null };

const MAX_READ = 1 << 20;
const WRITE_BUDGET = 1n << 20n;

export class InputStream {
  ended = false;

  constructor(
    private readonly ctx: PollContext,
    private readonly source: ByteSource,
    readonly origin: StreamOrigin | null = null,
  ) {}

  /** Readable again after its end (a command worker's next call brings new stdin). */
  reopen(): void {
    this.ended = false;
  }

  read(len: bigint): Uint8Array {
    if (this.ended) throw CLOSED;
    if (len === 0n) return new Uint8Array(0);
    const bytes = this.source(Number(len > BigInt(MAX_READ) ? BigInt(MAX_READ) : len));
    if (bytes.byteLength === 0) {
      this.ended = true;
      throw CLOSED;
    }
    return bytes;
  }

  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }

  skip(len: bigint): bigint {
    return BigInt(this.read(len).byteLength);
  }

  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }

  subscribe(): Pollable {
    return new Pollable(this.ctx);
  }

  [DISPOSE](): void {}
}

export class OutputStream {
  constructor(
    private readonly ctx: PollContext,
    private readonly sink: ByteSink,
    readonly origin: StreamOrigin | null = null,
  ) {}

  checkWrite(): bigint {
    return WRITE_BUDGET;
  }

  write(contents: Uint8Array): void {
    if (contents.byteLength > 0) this.sink(contents);
  }

  blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
  }

  flush(): void {}

  blockingFlush(): void {}

  subscribe(): Pollable {
    return new Pollable(this.ctx);
  }

  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(Number(len)));
  }

  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }

  splice(src: InputStream, len: bigint): bigint {
    let bytes: Uint8Array;
    try {
      bytes = src.read(len);
    } catch (err) {
      if (err === CLOSED) throw CLOSED;
      throw err;
    }
    this.write(bytes);
    return BigInt(bytes.byteLength);
  }

  blockingSplice(src: InputStream, len: bigint): bigint {
    return this.splice(src, len);
  }
}

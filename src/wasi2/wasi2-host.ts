import { randomBytes, randomFillSync } from 'node:crypto';
import { E } from '../wasi/abi.js';
import { WasiExit, type WasiHostOptions, type WasiState } from '../wasi/index.js';
import { Descriptor, DirectoryEntryStream, filesystemErrorCode } from './filesystem.js';
import { CLOSED, InputStream, IoError, OutputStream, Pollable, failed, poll, type PollContext } from './io-streams.js';
import { Preview1Bridge } from './preview1-bridge.js';

/** Placeholders for wasi:cli/terminal-*: Warren's stdio is never a terminal. */
class TerminalInput {}
class TerminalOutput {}

/**
 * Warren's WASI 0.2 host for components (the imports object of jco's `--instantiation` glue,
 * keyed by unversioned interface name). wasi:cli, wasi:io, wasi:clocks and wasi:random are
 * here; wasi:filesystem and stdio go through Warren's preview1 host (Preview1Bridge), so a
 * component sees the same mounts, read-only files, quota and output cap as a preview1 guest.
 * Not @bytecodealliance/preview2-shim: its file system follows host symlinks out of a preopen
 * and writes through guest symlinks into read-only files (docs/decisions.md).
 */
export class Wasi2Host implements PollContext {
  readonly imports: Record<string, Record<string, unknown>>;
  readonly bridge: Preview1Bridge;
  mayBlock: boolean;
  /** The preopened directories, in mount order (fds 3, 4, ... of the preview1 host). */
  readonly preopens: [Descriptor, string][];
  /** The stdio streams: the same objects for every get-stdin/-stdout/-stderr. */
  readonly stdio: { stdin: InputStream; stdout: OutputStream; stderr: OutputStream };
  private readonly args: string[];
  private readonly env: [string, string][];

  /** `restored`: the preview1 host's exported state of a full snapshot (fds reopened at their offsets). */
  constructor(opts: WasiHostOptions, restored?: WasiState) {
    this.bridge = new Preview1Bridge(opts, restored);
    this.mayBlock = opts.mayBlock ?? true;
    // From the preview1 host: a restored one has the snapshot's, as a preview1 guest would.
    const state = this.bridge.host.exportState();
    this.args = [...state.args];
    this.env = Object.entries(state.env);
    this.preopens = state.mounts.mounts.map((m, i) => [
      new Descriptor(this.bridge, this, 3 + i, { read: true, mutateDirectory: m.mode === 'rw' }, 'directory', true),
      m.guestPath,
    ]);
    this.stdio = this.openStdio();
    this.imports = this.buildImports();
  }

  get outputLimitExceeded(): boolean {
    return this.bridge.host.outputLimitExceeded;
  }

  get diskQuotaExceeded(): boolean {
    return this.bridge.host.diskQuotaExceeded;
  }

  /** New stdin for the next run of a command worker (the stdin/stdout convention). */
  setStdin(stdin: Uint8Array): void {
    this.bridge.host.setStdin(stdin);
    this.stdio.stdin.reopen();
  }

  /** Closes every host fd the run holds. */
  close(): void {
    this.bridge.host.close();
  }

  private openStdio(): Wasi2Host['stdio'] {
    const bridge = this.bridge;
    const stdin = new InputStream(
      this,
      (max) => {
        const [iov, buf] = bridge.iovec(max);
        try {
          bridge.call('fd_read', 0, iov, 1, bridge.out(0));
        } catch (errno) {
          throw failed(`stdin: errno ${String(errno)}`);
        }
        return bridge.copy(buf, bridge.u32(bridge.out(0)));
      },
      { kind: 'stdin' },
    );
    const output = (fd: 1 | 2) =>
      new OutputStream(
        this,
        (bytes) => {
          let done = 0;
          while (done < bytes.byteLength) {
            const chunk = bytes.subarray(done);
            const [iov] = bridge.iovec(chunk.byteLength, chunk);
            try {
              bridge.call('fd_write', fd, iov, 1, bridge.out(0));
            } catch (errno) {
              // Past the output cap the preview1 host says EFBIG: the stream is closed for good.
              if (errno === E.FBIG) throw CLOSED;
              throw failed(`${fd === 1 ? 'stdout' : 'stderr'}: errno ${String(errno)}`);
            }
            done += bridge.u32(bridge.out(0));
          }
        },
        { kind: fd === 1 ? 'stdout' : 'stderr' },
      );
    return { stdin, stdout: output(1), stderr: output(2) };
  }

  private buildImports(): Record<string, Record<string, unknown>> {
    const { stdin, stdout, stderr } = this.stdio;
    const hr = () => process.hrtime.bigint();
    return {
      'wasi:cli/environment': {
        getEnvironment: () => this.env.map(([k, v]) => [k, v]),
        getArguments: () => [...this.args],
        initialCwd: () => undefined,
      },
      'wasi:cli/exit': {
        exit: (status: { tag: 'ok' | 'err' }) => {
          throw new WasiExit(status.tag === 'ok' ? 0 : 1);
        },
      },
      'wasi:cli/stdin': { getStdin: () => stdin },
      'wasi:cli/stdout': { getStdout: () => stdout },
      'wasi:cli/stderr': { getStderr: () => stderr },
      'wasi:cli/terminal-input': { TerminalInput },
      'wasi:cli/terminal-output': { TerminalOutput },
      'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
      'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
      'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
      'wasi:io/error': { Error: IoError },
      'wasi:io/poll': { Pollable, poll: (list: Pollable[]) => poll(this, list) },
      'wasi:io/streams': { InputStream, OutputStream },
      'wasi:clocks/monotonic-clock': {
        now: hr,
        resolution: () => 1n,
        subscribeInstant: (when: bigint) => new Pollable(this, when),
        subscribeDuration: (ns: bigint) => new Pollable(this, hr() + ns),
      },
      'wasi:clocks/wall-clock': {
        now: () => {
          const ms = Date.now();
          return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1e6 };
        },
        resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
      },
      'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode },
      'wasi:filesystem/preopens': { getDirectories: () => this.preopens.map(([d, p]) => [d, p]) },
      'wasi:random/random': {
        getRandomBytes: (len: bigint) => randomBytes(Number(len)),
        getRandomU64: () => randomBytes(8).readBigUInt64LE(),
      },
      'wasi:random/insecure': {
        getInsecureRandomBytes: (len: bigint) => randomFillSync(new Uint8Array(Number(len))),
        getInsecureRandomU64: () => randomBytes(8).readBigUInt64LE(),
      },
      'wasi:random/insecure-seed': {
        insecureSeed: () => [randomBytes(8).readBigUInt64LE(), randomBytes(8).readBigUInt64LE()],
      },
    };
  }
}

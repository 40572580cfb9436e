import { randomBytes, randomFillSync } from 'node:crypto';
import { E } from '../wasi/abi.js';
import { WasiExit, type WasiHostOptions } from '../wasi/index.js';
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
 * and writes through guest symlinks into read-only files (measured in session 1).
 */
export class Wasi2Host implements PollContext {
  readonly imports: Record<string, Record<string, unknown>>;
  readonly bridge: Preview1Bridge;
  mayBlock: boolean;
  private readonly args: string[];
  private readonly env: [string, string][];
  private readonly preopens: [Descriptor, string][];
  private stdin!: InputStream;

  constructor(opts: WasiHostOptions) {
    this.bridge = new Preview1Bridge(opts);
    this.mayBlock = opts.mayBlock ?? true;
    this.args = [...opts.args];
    this.env = Object.entries(opts.env);
    const state = this.bridge.host.exportState();
    this.preopens = state.mounts.mounts.map((m, i) => [
      new Descriptor(this.bridge, this, 3 + i, { read: true, mutateDirectory: m.mode === 'rw' }, 'directory', true),
      m.guestPath,
    ]);
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
    this.stdin.reopen();
  }

  /** Closes every host fd the run holds. */
  close(): void {
    this.bridge.host.close();
  }

  private buildImports(): Record<string, Record<string, unknown>> {
    const bridge = this.bridge;
    const stdin = (this.stdin = new InputStream(this, (max) => {
      const [iov, buf] = bridge.iovec(max);
      try {
        bridge.call('fd_read', 0, iov, 1, bridge.out(0));
      } catch (errno) {
        throw failed(`stdin: errno ${String(errno)}`);
      }
      return bridge.copy(buf, bridge.u32(bridge.out(0)));
    }));
    const output = (fd: number) =>
      new OutputStream(this, (bytes) => {
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
      });
    const stdout = output(1);
    const stderr = output(2);
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

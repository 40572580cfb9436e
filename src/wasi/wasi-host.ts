import { WarrenError } from '../errors.js';
import { tooManyFilesError } from '../host-failure.js';
import { E, Errno, errnoOf } from './abi.js';
import { fdIoCalls } from './calls-fd-io.js';
import { fdMetaCalls } from './calls-fd-meta.js';
import { pathOpenCalls } from './calls-path-open.js';
import { pathCalls } from './calls-path.js';
import { procCalls, type Syscall } from './calls-proc.js';
import { mutatingCall } from './touched-mounts.js';
import { DiskQuota } from './disk-quota.js';
import { NO_FD_BUDGET, type FdBudget } from './fd-budget.js';
import { closeQuietly, FdTable, type FdEntry } from './fd-table.js';
import { normalizeGuestPath, type MountTable } from './mount-table.js';
import { ReadOnlySet } from './read-only-set.js';
import { StdinReader, type OutputSink, type StdinSource } from './stdio.js';
import { WasiContext } from './wasi-context.js';
import { WasiExit } from './wasi-exit.js';
import { exportFds, keyReadOnlySet, openMountRoot, reopenFd, stdioEntry, type WasiState } from './wasi-state.js';

export interface WasiHostOptions {
  args: string[];
  env: Record<string, string>;
  mounts: MountTable;
  stdin?: StdinSource;
  stdout?: OutputSink;
  stderr?: OutputSink;
  /** Cap on stdout+stderr bytes per start(); past it fd_write gives EFBIG and outputLimitExceeded is set. */
  maxOutputBytes?: number;
  /** Cap on bytes of regular files under rw mounts; past it ENOSPC and diskQuotaExceeded is set. */
  diskQuotaBytes?: number;
  /** Default 1024; past it EMFILE. */
  maxOpenFiles?: number;
  /** Host fds shared by every guest of the node; spent, it is EMFILE too. Default: none. */
  fdBudget?: FdBudget;
  /** Default true. When false, a call that would sleep throws InlineYield instead. */
  mayBlock?: boolean;
}

export interface WasiRestoreIo {
  stdin?: StdinSource;
  stdout?: OutputSink;
  stderr?: OutputSink;
  maxOutputBytes?: number;
  diskQuotaBytes?: number;
  fdBudget?: FdBudget;
}

/**
 * Runs at the start of every syscall of every guest of this thread, when set: a thread that
 * hosts many worker instances serves requests about its other (idle) instances there, while
 * one instance's call holds the thread (InstanceThreads moves an idle instance out that way).
 */
let syscallCheckpoint: (() => void) | null = null;

export function setSyscallCheckpoint(checkpoint: (() => void) | null): void {
  syscallCheckpoint = checkpoint;
}

/**
 * Warren's wasi_snapshot_preview1 host: every call goes through the mount table, the read-only
 * set and the fd table in a WasiContext; all of it can be exported as plain data and restored
 * in another process. Synchronous (Node's sync fs), so it belongs in a worker thread.
 */
export class WasiHost {
  readonly imports: WebAssembly.Imports;
  private readonly ctx: WasiContext;
  private maxOpenFiles: number;

  constructor(opts: WasiHostOptions) {
    const run = WasiHost.prepare(opts);
    this.maxOpenFiles = run.fds.maxOpen;
    this.ctx = new WasiContext(
      run.args, run.env, run.mounts, run.readOnly, run.fds, run.stdin, run.stdout, run.stderr, run.maxOutputBytes, null,
    );
    this.ctx.mayBlock = opts.mayBlock ?? true;
    this.ctx.resolver.budget = run.fds.budget;
    this.openRun(opts);
    this.imports = { wasi_snapshot_preview1: this.buildImports() };
  }

  /**
   * Makes this host a fresh one for `opts`, keeping its `imports`: what the previous run opened
   * is closed, and nothing of its fds, output count or limits is left. Job threads reuse one
   * host per thread because building the ~46 import closures, and V8 wrapping new functions at
   * each instantiation, cost several times more than a small job itself.
   */
  reset(opts: WasiHostOptions): void {
    this.close();
    const run = WasiHost.prepare(opts);
    this.maxOpenFiles = run.fds.maxOpen;
    this.ctx.renew(run.args, run.env, run.mounts, run.readOnly, run.fds, run.stdin, run.stdout, run.stderr, run.maxOutputBytes);
    this.ctx.mayBlock = opts.mayBlock ?? true;
    this.ctx.resolver.budget = run.fds.budget;
    this.touched.clear();
    this.openRun(opts);
  }

  private static prepare(opts: WasiHostOptions) {
    const mounts = opts.mounts.mounts.map((m) => ({ ...m, guestPath: normalizeGuestPath(m.guestPath) }));
    return {
      args: [...opts.args],
      env: { ...opts.env },
      mounts,
      readOnly: new ReadOnlySet(opts.mounts.readOnlyFiles.map(normalizeGuestPath)),
      fds: new FdTable(opts.maxOpenFiles ?? 1024, opts.fdBudget ?? NO_FD_BUDGET),
      stdin: new StdinReader(opts.stdin ?? null),
      stdout: opts.stdout === undefined ? null : opts.stdout,
      stderr: opts.stderr === undefined ? null : opts.stderr,
      maxOutputBytes: opts.maxOutputBytes ?? Number.POSITIVE_INFINITY,
    };
  }

  /** Stdio, the mount roots, the read-only set's identities and the quota of the run in `ctx`. */
  private openRun(opts: WasiHostOptions): void {
    const { fds, mounts, readOnly } = this.ctx;
    fds.set(0, stdioEntry('stdin'));
    fds.set(1, stdioEntry('stdout'));
    fds.set(2, stdioEntry('stderr'));
    try {
      mounts.forEach((_, i) => fds.set(3 + i, openMountRoot(mounts, i)));
      keyReadOnlySet(readOnly, mounts, this.mountRoots(), this.ctx.resolver);
    } catch (err) {
      this.close();
      throw err;
    }
    if (opts.diskQuotaBytes !== undefined) this.setDiskQuota(opts.diskQuotaBytes);
  }

  /** Rebuilds a host from exportState(): same args, env, mounts, read-only set, fds and offsets. */
  static restore(state: WasiState, io: WasiRestoreIo = {}): WasiHost {
    if (state?.version !== 1) throw new WarrenError('E_SNAPSHOT_INVALID', 'unknown WASI state version');
    const host = new WasiHost({
      args: state.args, env: state.env, mounts: state.mounts, maxOpenFiles: state.maxOpenFiles,
      stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, maxOutputBytes: io.maxOutputBytes, fdBudget: io.fdBudget,
    });
    const ctx = host.ctx;
    const roots = host.mountRoots();
    const entries: [number, FdEntry][] = [];
    try {
      for (const s of state.fds) {
        if (s.kind === 'stdin' || s.kind === 'stdout' || s.kind === 'stderr') entries.push([s.fd, { ...stdioEntry(s.kind), fdflags: s.fdflags }]);
        else entries.push([s.fd, reopenFd(s, ctx.mounts, roots, ctx.resolver, (st, g) => ctx.isReadOnlyFile(st, g))]);
      }
    } catch (err) {
      for (const [, e] of entries) if (e.hostFd >= 0) closeQuietly(e.hostFd);
      host.close();
      if (err instanceof Errno && (err.errno === E.MFILE || err.errno === E.NFILE)) throw tooManyFilesError('restoring the guest\'s open files');
      throw err;
    }
    ctx.fds.closeAll();
    for (const [fd, e] of entries) ctx.fds.set(fd, e);
    if (io.diskQuotaBytes !== undefined) host.setDiskQuota(io.diskQuotaBytes);
    return host;
  }

  /** Binds memory and runs `_start`; returns 0, or the proc_exit code. Traps are rethrown. */
  start(instance: WebAssembly.Instance): number {
    this.bindInstance(instance);
    const start = instance.exports._start;
    if (typeof start !== 'function') throw new WarrenError('E_WASM_INVALID', 'the module exports no _start function (is it a reactor?)');
    this.ctx.outputBytes = 0;
    try {
      (start as () => void)();
      return 0;
    } catch (err) {
      if (err instanceof WasiExit) return err.code;
      throw err;
    }
  }

  /** Binds memory and calls `_initialize` when the module has one (reactors). */
  initialize(instance: WebAssembly.Instance): void {
    this.bindInstance(instance);
    const init = instance.exports._initialize;
    if (typeof init === 'function') (init as () => void)();
  }

  bind(memory: WebAssembly.Memory): void {
    this.ctx.bind(memory);
  }

  /** Points stdin somewhere else (a worker takes new input per invocation). */
  setStdin(stdin: StdinSource): void {
    this.ctx.stdin = new StdinReader(stdin);
  }

  exportState(): WasiState {
    const c = this.ctx;
    return {
      version: 1,
      args: [...c.args],
      env: { ...c.env },
      mounts: { mounts: c.mounts.map((m) => ({ ...m })), readOnlyFiles: [...c.readOnly.guestPaths].sort() },
      readOnlyIds: c.readOnly.idList(),
      fds: exportFds(c.fds),
      maxOpenFiles: this.maxOpenFiles,
    };
  }

  /** Closes every host fd this host holds. The host is unusable afterwards, until `reset`. */
  close(): void {
    this.ctx.fds.closeAll();
    this.ctx.resolver.invalidate();
  }

  get outputLimitExceeded(): boolean {
    return this.ctx.outputLimitExceeded;
  }

  set outputLimitExceeded(v: boolean) {
    this.ctx.outputLimitExceeded = v;
  }

  get diskQuotaExceeded(): boolean {
    return this.ctx.quota?.exceeded ?? false;
  }

  set diskQuotaExceeded(v: boolean) {
    if (this.ctx.quota) this.ctx.quota.exceeded = v;
  }

  /** Guest paths the guest tried to open for writing and was refused as read-only (first 16). */
  get refusedWrites(): readonly string[] {
    return this.ctx.refusedWrites;
  }

  /** Bytes counted against the disk quota (undefined without a quota). */
  get diskUsedBytes(): number | undefined {
    return this.ctx.quota?.used;
  }

  private setDiskQuota(limit: number): void {
    const c = this.ctx;
    const rw = c.mounts.filter((m) => m.mode === 'rw').map((m) => m.hostPath);
    c.quota = new DiskQuota(limit, DiskQuota.measure(rw, c.readOnly));
  }

  private mountRoots(): FdEntry[] {
    return this.ctx.mounts.map((_, i) => this.ctx.fds.entries[3 + i]!);
  }

  private bindInstance(instance: WebAssembly.Instance): void {
    const mem = instance.exports.memory ?? instance.exports.__warren_memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new WarrenError('E_WASM_INVALID', 'the module exports no memory');
    this.ctx.bind(mem);
  }

  private buildImports(): Record<string, (...args: never[]) => number> {
    const calls: Record<string, Syscall> = {
      ...procCalls(this.ctx), ...fdIoCalls(this.ctx), ...fdMetaCalls(this.ctx), ...pathOpenCalls(this.ctx), ...pathCalls(this.ctx),
    };
    const out: Record<string, (...args: never[]) => number> = {};
    const resolver = this.ctx.resolver;
    const ctx = this.ctx;
    const touched = this.touched;
    for (const [name, call] of Object.entries(calls)) {
      const fn = call as unknown as (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown, g: unknown, h: unknown, i: unknown) => number;
      const mutating = mutatingCall(name);
      out[name] = ((a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown, g: unknown, h: unknown, i: unknown) => {
        syscallCheckpoint?.();
        // Directories resolved by earlier calls may be closed from here on, never those of this one.
        resolver.beginCall();
        if (mutating && (!mutating.changes || mutating.changes([a, b, c, d, e]))) {
          for (const k of mutating.fdArgs) {
            const mount = ctx.fds.entries[Number(k === 0 ? a : k === 2 ? c : k === 3 ? d : e)]?.mount ?? -1;
            if (mount >= 0) touched.add(mount);
          }
        }
        try {
          return fn(a, b, c, d, e, f, g, h, i);
        } catch (err) {
          return errnoOf(err);
        }
      }) as (...args: never[]) => number;
    }
    return out;
  }

  /** Mount indexes a call may have changed files in since takeTouchedMounts last ran. */
  private readonly touched = new Set<number>();

  /**
   * Guest paths of the mounts whose files the guest may have changed since the last call of
   * this (or since the host was made), and forgets them: what a snapshot must walk again.
   */
  takeTouchedMounts(): string[] {
    const paths = [...this.touched].map((i) => this.ctx.mounts[i]?.guestPath).filter((g): g is string => g !== undefined);
    this.touched.clear();
    return paths;
  }
}

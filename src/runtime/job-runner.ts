import { InlineYield, WasiHost, type WasiHostOptions } from '../wasi/index.js';
import { runComponentJob } from './component-job.js';
import { classifyGuestError } from './guest-error.js';
import { jobHostOptions } from './job-host-options.js';
import { guestMemory, linkGuest } from './link-guest.js';
import { MemoryRecycler } from './memory-recycler.js';
import type { GuestErrorInfo, LinkedModules, RunJobRequest } from './thread-protocol.js';

/** What a job run gives back: the same fields on a guest thread and inline. */
export type JobRunOutcome =
  | { ok: true; result: { exitCode: number; memoryBytes: number; outputLimitExceeded: boolean; diskQuotaExceeded: boolean } }
  | { ok: false; error: GuestErrorInfo };

export interface JobRunIo {
  stdout: (chunk: Uint8Array) => void;
  stderr: (chunk: Uint8Array) => void;
  /** False for inline runs: a guest that would sleep gives up its run (see InlineYield). */
  mayBlock?: boolean;
}

/**
 * Runs jobs on the calling thread: a fresh instance per job, `_start`, nothing kept but what
 * makes the next job cheaper: one WASI host whose imports are reused (reset per job) and
 * zeroed memories. Guest threads hold one; so does the API thread for inline jobs.
 */
export class JobRunner {
  private host: WasiHost | null = null;
  private readonly recycler = new MemoryRecycler();

  run(req: Omit<RunJobRequest, 'type' | 'id' | 'modules' | 'modulesKey'>, modules: LinkedModules, io: JobRunIo): JobRunOutcome {
    if (modules.component) return runComponentJob(req, modules.component, io);
    let memory: WebAssembly.Memory | null = null;
    let wasi: WasiHost | null = null;
    const recycled = req.recycledMemory ? this.recycler.take(req.recycledMemory) : null;
    try {
      wasi = this.hostFor(jobHostOptions(req, io));
      const instance = modules.extensions.length === 0 && recycled
        ? new WebAssembly.Instance(modules.main, this.importsWith(wasi, recycled))
        : linkGuest(modules, wasi, recycled ? this.recycler.imports(recycled) : {});
      memory = guestMemory(instance);
      const exitCode = wasi.start(instance);
      return {
        ok: true,
        result: {
          exitCode,
          memoryBytes: memory?.buffer.byteLength ?? 0,
          outputLimitExceeded: wasi.outputLimitExceeded,
          diskQuotaExceeded: wasi.diskQuotaExceeded,
        },
      };
    } catch (err) {
      if (err instanceof InlineYield) throw err;
      const mem = memory ? { bytes: memory.buffer.byteLength, maxBytes: req.limits.memoryMaxBytes } : undefined;
      return { ok: false, error: classifyGuestError(err, mem) };
    } finally {
      wasi?.close();
      if (recycled && req.recycledMemory) this.recycler.give(req.recycledMemory, recycled);
    }
  }

  private imports: WebAssembly.Imports | null = null;

  /** The host's imports plus the recycled memory, in one object kept across jobs (no spread per job). */
  private importsWith(wasi: WasiHost, memory: WebAssembly.Memory): WebAssembly.Imports {
    if (this.imports === null) this.imports = { ...wasi.imports, ...this.recycler.imports(memory) };
    else Object.assign(this.imports, this.recycler.imports(memory));
    return this.imports;
  }

  /**
   * Closes what the last job left open. A job stopped at its deadline (TerminateExecution) ran
   * no `finally`: its fds are still in the host, and the runner that replaces this one would
   * never close them.
   */
  dispose(): void {
    this.host?.close();
    this.host = null;
  }

  private hostFor(opts: WasiHostOptions): WasiHost {
    if (this.host === null) this.host = new WasiHost(opts);
    else this.host.reset(opts);
    return this.host;
  }
}

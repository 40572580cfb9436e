import { WarrenError } from '../errors.js';
import { InlineYield } from '../wasi/index.js';
import { Wasi2Host } from '../wasi2/wasi2-host.js';
import { commandRun, instantiateComponent, runCommand } from './component-instance.js';
import { classifyGuestError } from './guest-error.js';
import { jobHostOptions } from './job-host-options.js';
import type { JobRunIo, JobRunOutcome } from './job-runner.js';
import type { ComponentModules, RunJobRequest } from './thread-protocol.js';

/**
 * A job of a `wasi:cli/command` component: a fresh instance, `wasi:cli/run` called once, as a
 * preview1 command's `_start` is (same stdin, output streaming and cap, files, quota; exit code
 * 0 when run returns ok, 1 when it returns err, the code of wasi:cli/exit otherwise — WASI 0.2's
 * exit carries ok/err only, so a C guest's exit(7) comes out as 1, as under wasmtime).
 */
export function runComponentJob(req: Omit<RunJobRequest, 'type' | 'id' | 'modules' | 'modulesKey'>, mods: ComponentModules, io: JobRunIo): JobRunOutcome {
  let host: Wasi2Host | null = null;
  let memories: WebAssembly.Memory[] = [];
  try {
    host = new Wasi2Host(jobHostOptions(req, io));
    const instance = instantiateComponent(mods, host.imports);
    memories = instance.memories;
    const run = commandRun(instance.exports);
    if (!run) throw new WarrenError('E_WASM_INVALID', 'the component exports no wasi:cli/run: it is not a command (call its exports on a worker instead)');
    const exitCode = runCommand(run);
    return {
      ok: true,
      result: { exitCode, memoryBytes: totalBytes(memories), outputLimitExceeded: host.outputLimitExceeded, diskQuotaExceeded: host.diskQuotaExceeded },
    };
  } catch (err) {
    if (err instanceof InlineYield) throw err;
    const largest = memories.reduce((m, x) => Math.max(m, x.buffer.byteLength), 0);
    return { ok: false, error: classifyGuestError(err, memories.length ? { bytes: largest, maxBytes: req.limits.memoryMaxBytes } : undefined) };
  } finally {
    host?.close();
  }
}

function totalBytes(memories: WebAssembly.Memory[]): number {
  return memories.reduce((n, m) => n + m.buffer.byteLength, 0);
}

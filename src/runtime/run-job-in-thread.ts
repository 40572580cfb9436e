import { WasiHost, type WasiHostOptions } from '../wasi/index.js';
import { classifyGuestError } from './guest-error.js';
import { guestMemory, linkGuest } from './link-guest.js';
import { OutputBatcher } from './output-batcher.js';
import { MemoryRecycler } from './memory-recycler.js';
import type { LinkedModules, RunJobRequest, ThreadReply } from './thread-protocol.js';

/** Thread side of a job: a fresh instance, `_start`, output streamed back in chunks. */
export function runJobInThread(req: RunJobRequest, post: (reply: ThreadReply, transfer?: ArrayBuffer[]) => void): void {
  const stdout = new OutputBatcher((chunk) => post({ type: 'stdout', id: req.id, chunk }));
  const stderr = new OutputBatcher((chunk) => post({ type: 'stderr', id: req.id, chunk }));
  let memory: WebAssembly.Memory | null = null;
  let wasi: WasiHost | null = null;
  const recycled = req.recycledMemory ? recycler.take(req.recycledMemory) : null;
  try {
    wasi = jobHost({
      args: req.args,
      env: req.env,
      mounts: req.mounts ?? { mounts: [], readOnlyFiles: [] },
      stdin: req.stdin,
      stdout: (c) => stdout.write(c),
      stderr: (c) => stderr.write(c),
      maxOutputBytes: req.limits.maxOutputBytes,
      diskQuotaBytes: req.limits.diskQuotaBytes,
    });
    const instance = linkGuest(modulesFor(req), wasi, recycled ? recycler.imports(recycled) : {});
    memory = guestMemory(instance);
    const exitCode = wasi.start(instance);
    post({
      type: 'done',
      id: req.id,
      result: {
        // The last output travels with the result: one message per small job, not three.
        stdoutTail: stdout.take(),
        stderrTail: stderr.take(),
        exitCode,
        memoryBytes: memory?.buffer.byteLength ?? 0,
        outputLimitExceeded: wasi.outputLimitExceeded,
        diskQuotaExceeded: wasi.diskQuotaExceeded,
      },
    });
  } catch (err) {
    stdout.flush();
    stderr.flush();
    const mem = memory ? { bytes: memory.buffer.byteLength, maxBytes: req.limits.memoryMaxBytes } : undefined;
    post({ type: 'error', id: req.id, error: classifyGuestError(err, mem) });
  } finally {
    wasi?.close();
    if (recycled && req.recycledMemory) recycler.give(req.recycledMemory, recycled);
  }
}

const recycler = new MemoryRecycler();
let reusedHost: WasiHost | null = null;

/** This thread's WASI host, reset for each job (its imports are built once per thread). */
function jobHost(opts: WasiHostOptions): WasiHost {
  if (reusedHost === null) reusedHost = new WasiHost(opts);
  else reusedHost.reset(opts);
  return reusedHost;
}
const linkedSets = new Map<string, LinkedModules>();

/** The linked set of a request: sent along the first time, then taken from this thread's cache. */
function modulesFor(req: RunJobRequest): LinkedModules {
  if (req.resetModules) linkedSets.clear();
  if (req.modules) {
    linkedSets.set(req.modulesKey, req.modules);
    return req.modules;
  }
  const known = linkedSets.get(req.modulesKey);
  if (!known) throw Object.assign(new Error(`guest thread lost linked set ${req.modulesKey}`), { code: 'E_INTERNAL' });
  return known;
}

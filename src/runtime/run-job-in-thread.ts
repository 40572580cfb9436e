import { WasiHost } from '../wasi/index.js';
import { classifyGuestError } from './guest-error.js';
import { guestMemory, linkGuest } from './link-guest.js';
import { OutputBatcher } from './output-batcher.js';
import type { RunJobRequest, ThreadReply } from './thread-protocol.js';

/** Thread side of a job: a fresh instance, `_start`, output streamed back in chunks. */
export function runJobInThread(req: RunJobRequest, post: (reply: ThreadReply, transfer?: ArrayBuffer[]) => void): void {
  const stdout = new OutputBatcher((chunk) => post({ type: 'stdout', id: req.id, chunk }));
  const stderr = new OutputBatcher((chunk) => post({ type: 'stderr', id: req.id, chunk }));
  let memory: WebAssembly.Memory | null = null;
  try {
    const wasi = new WasiHost({
      args: req.args,
      env: req.env,
      mounts: req.mounts ?? { mounts: [], readOnlyFiles: [] },
      stdin: req.stdin,
      stdout: (c) => stdout.write(c),
      stderr: (c) => stderr.write(c),
      maxOutputBytes: req.limits.maxOutputBytes,
      diskQuotaBytes: req.limits.diskQuotaBytes,
    });
    const instance = linkGuest(req.modules, wasi);
    memory = guestMemory(instance);
    const exitCode = wasi.start(instance);
    stdout.flush();
    stderr.flush();
    post({
      type: 'done',
      id: req.id,
      result: {
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
  }
}

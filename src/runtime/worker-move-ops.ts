import { WarrenError } from '../errors.js';
import type { WasiState } from '../wasi/index.js';
import { adoptComponentInstance, exportComponentInstance, hasComponentInstance } from './component-worker.js';
import { readGlobals, writeGlobals } from './instance-globals.js';
import { dropLiveInstance, liveInstance, modulesOf, rebuildLiveInstance, registerWorkerOp } from './worker-instance-thread.js';

const PAGE_BYTES = 65536;

/**
 * Thread side of moving an idle instance between threads (InstanceThreads): `export` copies it
 * out as it is (whole memory, globals, WASI state) and leaves it in place until a `stop`;
 * `adopt` builds it again in another thread. Nothing goes through disk, and nothing is hashed:
 * the memory is one copy, transferred from thread to thread.
 */
registerWorkerOp('export', (req) => {
  if (hasComponentInstance(req.payload.workerId)) return exportComponentInstance(req.payload.workerId);
  const inst = liveInstance(req.payload.workerId);
  if (!inst.memory) throw new WarrenError('E_WORKER_STATE', 'the guest has no linear memory to move');
  return { memory: inst.memory.buffer.slice(0), globals: readGlobals(inst.instance), wasi: inst.wasi.exportState() };
});

registerWorkerOp('adopt', (req) => {
  const p = req.payload;
  dropLiveInstance(p.workerId);
  const component = modulesOf(p).component;
  if (component) return adoptComponentInstance(p, component, (wasi) => sameFiles(p.wasi, wasi));
  // Host fds are reopened from the WASI state (Node closes the fds a thread opened when that
  // thread ends: they cannot be handed from thread to thread).
  return rebuildLiveInstance(p, p.wasi, new WarrenError('E_WORKER_STATE', 'the guest has no linear memory to move into'), (inst, memory) => {
    const pages = p.memory.byteLength / PAGE_BYTES;
    const have = memory.buffer.byteLength / PAGE_BYTES;
    if (pages > have) memory.grow(pages - have);
    new Uint8Array(memory.buffer).set(new Uint8Array(p.memory));
    writeGlobals(inst.instance, p.globals);
    sameFiles(p.wasi, inst.wasi.exportState());
  });
});

/**
 * A move must not change what a guest fd refers to: an fd whose path now names another file
 * (renamed, replaced, unlinked and made again) cannot be reopened by path, so the move fails
 * and the instance stays where it is.
 */
function sameFiles(before: WasiState, after: WasiState): void {
  const now = new Map(after.fds.map((f) => [f.fd, f]));
  for (const f of before.fds) {
    if (f.kind !== 'file' && f.kind !== 'dir') continue;
    const g = now.get(f.fd);
    if (!g || g.dev !== f.dev || g.ino !== f.ino) {
      throw new WarrenError('E_WORKER_STATE', `fd ${f.fd} (${f.guestPath}) no longer names the file it was opened on`, { fd: f.fd });
    }
  }
}

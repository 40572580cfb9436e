import { WarrenError } from '../errors.js';
import { hasComponentInstance, restoreComponentInstance, snapshotComponentInstance } from './component-worker.js';
import { readGlobals, writeGlobals } from './instance-globals.js';
import { restorePacks, scanPages, type PageScan } from './memory-pages.js';
import { dropLiveInstance, liveInstance, modulesOf, rebuildLiveInstance, registerWorkerOp, runAfterReply } from './worker-instance-thread.js';

/**
 * Thread side of `full` snapshots: memory as pages (only pages that differ from the caller's
 * base leave the thread), every exported global (precompile's export-globals transform exports
 * each mutable global as `__warren_global_<i>`), and the WASI state. Snapshots happen between
 * invocations only: calls of one worker never overlap, so an instance is never mid-call here.
 */
registerWorkerOp('snapshot', (req, post) => {
  const p = req.payload;
  if (hasComponentInstance(p.workerId)) return snapshotComponentInstance(req, post, runAfterReply);
  const inst = liveInstance(p.workerId);
  if (!inst.memory) throw new WarrenError('E_SNAPSHOT_INVALID', 'the guest has no linear memory to snapshot');
  // The pack streams out as it is cut, so the API thread stores (and hashes) it meanwhile.
  const emit = (chunk: Uint8Array<ArrayBuffer>) => post({ type: 'stdout', id: req.id, chunk }, [chunk.buffer]);
  let scan: PageScan;
  if (p.shadowTag) {
    const { nextShadow, ...pages } = scanPages(inst.memory, p.base, emit, { current: inst.shadow ?? null, baseTag: p.baseTag ?? null, nextTag: p.shadowTag });
    scan = pages;
    // The old shadow is half-updated while the new one is made: until it is done, there is none.
    inst.shadow = null;
    runAfterReply(() => {
      inst.shadow = nextShadow();
    });
  } else {
    scan = scanPages(inst.memory, p.base, emit);
    inst.shadow = null;
  }
  return { ...scan, globals: readGlobals(inst.instance), wasi: inst.wasi.exportState() };
});

registerWorkerOp('restore', (req) => {
  const p = req.payload;
  dropLiveInstance(p.workerId);
  const component = modulesOf(p).component;
  if (component) return restoreComponentInstance(p, component);
  return rebuildLiveInstance(p, p.wasi, new WarrenError('E_SNAPSHOT_INVALID', 'the guest has no linear memory to restore into'), (inst, memory) => {
    try {
      restorePacks(memory, p.pages, p);
    } catch (err) {
      throw new WarrenError('E_SNAPSHOT_INVALID', `cannot restore memory: ${(err as Error).message}`);
    }
    writeGlobals(inst.instance, p.globals);
  });
});

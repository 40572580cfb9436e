import { WarrenError } from '../errors.js';
import type { WasiState } from '../wasi/index.js';
import { restorePacks, scanPages, type PackPlacement, type PageScan } from './memory-pages.js';
import { createInstance, dropLiveInstance, isReactor, liveInstance, registerWorkerOp, runAfterReply, setLiveInstance, type StartWorkerPayload } from './worker-instance-thread.js';

/**
 * Thread side of `full` snapshots: memory as pages (only pages that differ from the caller's
 * base leave the thread), every exported global (precompile's export-globals transform exports
 * each mutable global as `__warren_global_<i>`), and the WASI state. Snapshots happen between
 * invocations only: the thread runs one op at a time, so an instance is never mid-call here.
 *
 * The base is the page map of the snapshot the caller last *stored*, passed in by the caller:
 * a snapshot whose blobs never made it to the store must not become the next one's base.
 */
export interface SnapshotPayload {
  workerId: string;
  /** Page digests of the caller's last stored snapshot of this instance; null = send every page. */
  base: Record<string, string> | null;
  /** The tag (snapshot id) the base was scanned under: its shadow, if the thread kept one, spares hashing unchanged pages. */
  baseTag?: string | null;
  /** Keep a shadow of memory tagged so for the next scan (instances snapshotted while they live: commits, `on_call`). */
  shadowTag?: string;
}

export type GlobalValues = Record<string, { type: 'number' | 'bigint'; value: string }>;

/** The scan (see memory-pages' PageScan; the pack's bytes went out as `stdout` chunks), globals and WASI state. */
export interface GuestStateSnapshot extends PageScan {
  globals: GlobalValues;
  wasi: WasiState;
}

export interface RestorePayload extends StartWorkerPayload, PackPlacement {
  pages: number;
  globals: GlobalValues;
  /** The exported WASI state, its mount host paths already pointing at this node's dirs. */
  wasi: WasiState;
}

registerWorkerOp('snapshot', (req, post) => {
  const p = req.payload as unknown as SnapshotPayload;
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
  const globals: GlobalValues = {};
  for (const [name, value] of Object.entries(inst.instance.exports)) {
    if (!(value instanceof WebAssembly.Global)) continue;
    const v: unknown = value.value;
    globals[name] = typeof v === 'bigint' ? { type: 'bigint', value: v.toString() } : { type: 'number', value: Object.is(v, -0) ? '-0' : String(v) };
  }
  const snap: GuestStateSnapshot = { ...scan, globals, wasi: inst.wasi.exportState() };
  return snap as unknown as Record<string, unknown>;
});

registerWorkerOp('restore', (req) => {
  const p = req.payload as unknown as RestorePayload;
  dropLiveInstance(p.workerId);
  const inst = createInstance(p, p.wasi);
  try {
    if (!inst.memory) throw new WarrenError('E_SNAPSHOT_INVALID', 'the guest has no linear memory to restore into');
    try {
      restorePacks(inst.memory, p.pages, p);
    } catch (err) {
      throw new WarrenError('E_SNAPSHOT_INVALID', `cannot restore memory: ${(err as Error).message}`);
    }
    for (const [name, g] of Object.entries(p.globals)) {
      const target = inst.instance.exports[name];
      if (!(target instanceof WebAssembly.Global)) {
        throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot has global ${name}, which the module does not export`, { global: name });
      }
      try {
        target.value = g.type === 'bigint' ? BigInt(g.value) : Number(g.value);
      } catch {
        // Immutable globals cannot be set, and need not be: their value never changed.
      }
    }
    inst.wasi.bind(inst.memory);
  } catch (err) {
    inst.wasi.close();
    throw err;
  }
  setLiveInstance(p.workerId, inst);
  return { reactor: isReactor(inst.instance), memoryBytes: inst.memory.buffer.byteLength };
});

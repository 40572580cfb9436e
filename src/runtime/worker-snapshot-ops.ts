import { WarrenError } from '../errors.js';
import { WasiHost } from '../wasi/index.js';
import { restorePages, scanPages } from './memory-pages.js';
import { createInstance, liveInstance, registerWorkerOp, setLiveInstance, type StartWorkerPayload } from './worker-instance-thread.js';

/**
 * Thread side of `full` snapshots: memory as pages (only changed ones leave the thread), every
 * exported global (precompile's export-globals transform exports each mutable global as
 * `__warren_global_<i>`), and the WASI state. Snapshots happen between invocations only: the
 * thread runs one op at a time, so an instance is never mid-call when this op runs.
 */
export interface GuestStateSnapshot {
  pages: number;
  digests: Record<string, string>;
  changed: { index: number; digest: string; bytes: Uint8Array }[];
  globals: Record<string, { type: 'number' | 'bigint'; value: string }>;
  wasi: unknown;
}

export interface RestorePayload extends StartWorkerPayload {
  pages: number;
  /** page index → bytes (all non-zero pages). */
  pageContents: [number, Uint8Array][];
  globals: GuestStateSnapshot['globals'];
  wasi: unknown;
  digests: Record<string, string>;
}

/** Digests of the last snapshot per worker, so the next one copies only changed pages. */
const lastDigests = new Map<string, Record<string, string>>();

registerWorkerOp('snapshot', (req) => {
  const workerId = String(req.payload.workerId);
  const inst = liveInstance(workerId);
  if (!inst.memory) throw new WarrenError('E_SNAPSHOT_INVALID', 'the guest has no linear memory to snapshot');
  const base = req.payload.sinceLast === false ? null : (lastDigests.get(workerId) ?? null);
  const scan = scanPages(inst.memory, base);
  lastDigests.set(workerId, scan.digests);
  const globals: GuestStateSnapshot['globals'] = {};
  for (const [name, value] of Object.entries(inst.instance.exports)) {
    if (!(value instanceof WebAssembly.Global)) continue;
    const v: unknown = value.value;
    globals[name] = typeof v === 'bigint' ? { type: 'bigint', value: v.toString() } : { type: 'number', value: String(v) };
  }
  const snap: GuestStateSnapshot = { pages: scan.pages, digests: scan.digests, changed: scan.changed, globals, wasi: inst.wasi.exportState() };
  return snap as unknown as Record<string, unknown>;
});

registerWorkerOp('restore', (req) => {
  const p = req.payload as unknown as RestorePayload;
  const inst = createInstance(p, p.wasi as Parameters<typeof WasiHost.restore>[0]);
  if (!inst.memory) throw new WarrenError('E_SNAPSHOT_INVALID', 'the guest has no linear memory to restore into');
  restorePages(inst.memory, p.pages, new Map(p.pageContents));
  for (const [name, g] of Object.entries(p.globals)) {
    const target = inst.instance.exports[name];
    if (!(target instanceof WebAssembly.Global)) continue;
    try {
      target.value = g.type === 'bigint' ? BigInt(g.value) : Number(g.value);
    } catch {
      // Immutable globals cannot be set, and need not be: their value never changed.
    }
  }
  inst.wasi.bind(inst.memory);
  setLiveInstance(p.workerId, inst);
  lastDigests.set(p.workerId, p.digests);
  return { memoryBytes: inst.memory.buffer.byteLength };
});

registerWorkerOp('forget-snapshot-base', (req) => {
  lastDigests.delete(String(req.payload.workerId));
  return {};
});

/**
 * Worker-thread side of `warren exec`: instantiates one raw WASI module on Warren's WASI host
 * and runs `_start`. The main thread owns the timeout (it terminates this thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WasiHost, type MountTable, type OutputSink, type StdinSource } from '../wasi/index.js';

export interface ExecThreadInput {
  module: WebAssembly.Module;
  args: string[];
  env: Record<string, string>;
  mounts: MountTable;
  /** 'inherit' = the process's own stdio fds; 'capture' = chunks posted back. */
  stdio: 'inherit' | 'capture';
  stdin: Uint8Array | null;
}

export type ExecThreadMessage =
  | { type: 'stdout' | 'stderr'; chunk: Uint8Array }
  | { type: 'exit'; code: number; refusedWrites: string[]; outputLimitExceeded: boolean }
  | { type: 'trap'; message: string; stack: string; refusedWrites: string[] }
  | { type: 'error'; code: string; message: string };

function run(input: ExecThreadInput, post: (m: ExecThreadMessage) => void): void {
  const capture = input.stdio === 'capture';
  const sink = (type: 'stdout' | 'stderr'): OutputSink => (capture ? (chunk) => post({ type, chunk }) : { fd: type === 'stdout' ? 1 : 2 });
  const stdin: StdinSource = input.stdin ?? (capture ? null : { fd: 0 });
  let host: WasiHost;
  try {
    host = new WasiHost({ args: input.args, env: input.env, mounts: input.mounts, stdin, stdout: sink('stdout'), stderr: sink('stderr') });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    post({ type: 'error', code: e.code ?? 'E_INTERNAL', message: e.message ?? String(err) });
    return;
  }
  try {
    const instance = new WebAssembly.Instance(input.module, host.imports);
    const code = host.start(instance);
    post({ type: 'exit', code, refusedWrites: [...host.refusedWrites], outputLimitExceeded: host.outputLimitExceeded });
  } catch (err) {
    if (err instanceof WebAssembly.LinkError) {
      post({ type: 'error', code: 'E_WASM_INVALID', message: `cannot link the module: ${err.message}` });
    } else if (err instanceof Error && (err instanceof WebAssembly.RuntimeError || err instanceof RangeError)) {
      post({ type: 'trap', message: err.message, stack: err.stack ?? '', refusedWrites: [...host.refusedWrites] });
    } else {
      const e = err as { code?: string; message?: string };
      post({ type: 'error', code: e.code ?? 'E_INTERNAL', message: e.message ?? String(err) });
    }
  } finally {
    host.close();
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ExecThreadInput, (m) => port.postMessage(m));
}

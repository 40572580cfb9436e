import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import { WarrenError, type ErrorCode } from '../errors.js';
import { setMemoryMaximum } from '../precompile/memory-limit.js';
import type { MountTable } from '../wasi/index.js';
import type { ExecThreadInput, ExecThreadMessage } from './exec-thread.js';

export interface ExecOptions {
  modulePath: string;
  /** Guest arguments after argv[0] (argv[0] is the module's file name, as wasmtime does). */
  args: string[];
  env: Record<string, string>;
  mounts: MountTable;
  timeoutMs?: number;
  /** Linear memory cap, written into the module's memory section before compiling. */
  memoryMaxBytes?: number;
  /** 'inherit' (default) uses this process's stdio; 'capture' returns stdout/stderr (stdin from `stdin`). */
  stdio?: 'inherit' | 'capture';
  stdin?: Uint8Array;
}

export interface ExecResult {
  outcome: 'exit' | 'trap' | 'timeout';
  /** The guest's exit code; 134 after a trap, 124 after a timeout. */
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  trap?: { message: string; stack: string };
  /** Guest paths it tried to open for writing and was refused as read-only. */
  refusedWrites: string[];
}

const PAGE = 65536;

/** Compiles a module file, with its memory maximum capped when asked. */
export async function compileForExec(modulePath: string, memoryMaxBytes?: number): Promise<WebAssembly.Module> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(modulePath);
  } catch (err) {
    throw new WarrenError('E_NOT_FOUND', `cannot read module ${modulePath}: ${(err as Error).message}`, { path: modulePath });
  }
  if (memoryMaxBytes !== undefined) bytes = setMemoryMaximum(bytes, Math.max(1, Math.floor(memoryMaxBytes / PAGE)));
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new WarrenError('E_WASM_INVALID', `${modulePath} is not a valid WebAssembly module: ${(err as Error).message}`, { path: modulePath });
  }
}

/**
 * Runs a raw WASI preview1 module the way `wasmtime run` does, in a worker thread: the guest
 * never runs on this thread, and a timeout terminates its thread.
 */
export async function execModule(opts: ExecOptions): Promise<ExecResult> {
  const module = await compileForExec(opts.modulePath, opts.memoryMaxBytes);
  const input: ExecThreadInput = {
    module, args: [basename(opts.modulePath), ...opts.args], env: opts.env, mounts: opts.mounts,
    stdio: opts.stdio ?? 'inherit', stdin: opts.stdin ?? null,
  };
  const worker = new Worker(new URL('./exec-thread.js', import.meta.url), { workerData: input });
  const out: Buffer[] = [];
  const errOut: Buffer[] = [];
  return await new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    const finish = (r: ExecResult | Error) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      void worker.terminate();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const base = () => ({ stdout: Buffer.concat(out), stderr: Buffer.concat(errOut) });
    const timer = opts.timeoutMs === undefined ? null : setTimeout(() => {
      finish({ outcome: 'timeout', exitCode: 124, ...base(), refusedWrites: [] });
    }, opts.timeoutMs);
    worker.on('message', (m: ExecThreadMessage) => {
      switch (m.type) {
        case 'stdout': out.push(Buffer.from(m.chunk)); break;
        case 'stderr': errOut.push(Buffer.from(m.chunk)); break;
        case 'exit': finish({ outcome: 'exit', exitCode: m.code, ...base(), refusedWrites: m.refusedWrites }); break;
        case 'trap': finish({ outcome: 'trap', exitCode: 134, ...base(), trap: { message: m.message, stack: m.stack }, refusedWrites: m.refusedWrites }); break;
        case 'error': finish(new WarrenError(m.code as ErrorCode, m.message)); break;
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => finish(new WarrenError('E_INTERNAL', `the guest thread ended (code ${code}) without a result`)));
  });
}

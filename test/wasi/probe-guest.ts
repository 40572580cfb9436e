import { readFileSync } from 'node:fs';
import { fixturePath } from '../support/temp-dir.js';
import { WasiHost, type MountTable, type StdinSource } from '../../src/wasi/index.js';

const modules = new Map<string, WebAssembly.Module>();

export function loadFixture(name: string): WebAssembly.Module {
  let m = modules.get(name);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(fixturePath(name)));
    modules.set(name, m);
  }
  return m;
}

export interface ProbeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  host: WasiHost;
  /** result lines by op name, in order: "OK detail" or "ERR n" */
  lines: string[];
}

/** Runs fixtures/c/wasi_probe.c with the given ops on Warren's WASI host, in this thread. */
export function runProbe(mounts: MountTable, ops: string[], opts: { stdin?: StdinSource; env?: Record<string, string>; maxOutputBytes?: number; diskQuotaBytes?: number; maxOpenFiles?: number } = {}): ProbeRun {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const host = new WasiHost({
    args: ['probe', ...ops], env: opts.env ?? {}, mounts, stdin: opts.stdin ?? null,
    stdout: (c) => out.push(c), stderr: (c) => err.push(c),
    maxOutputBytes: opts.maxOutputBytes, diskQuotaBytes: opts.diskQuotaBytes, maxOpenFiles: opts.maxOpenFiles,
  });
  const instance = new WebAssembly.Instance(loadFixture('wasi_probe.wasm'), host.imports);
  let exitCode: number;
  try {
    exitCode = host.start(instance);
  } finally {
    host.close();
  }
  const stdout = Buffer.concat(out).toString('utf8');
  return { exitCode, stdout, stderr: Buffer.concat(err).toString('utf8'), host, lines: stdout.split('\n').filter(Boolean) };
}

/** The result of the n-th (0-based) occurrence of `op`: "OK ..." or "ERR <errno>". */
export function result(run: ProbeRun, op: string, n = 0): string {
  const hits = run.lines.filter((l) => l.startsWith(op + ' '));
  const line = hits[n];
  if (line === undefined) throw new Error(`no result for ${op} #${n} in:\n${run.stdout}${run.stderr}`);
  return line.slice(op.length + 1).trim();
}

export const ERRNO = { EEXIST: 20, EBADF: 8, EINVAL: 28, EISDIR: 31, ELOOP: 32, EMFILE: 33, ENOENT: 44, ENOSPC: 51, ENOTDIR: 54, ENOTSOCK: 57, ENOTSUP: 58, EPERM: 63, EROFS: 69, EXDEV: 75, EFBIG: 22 } as const;
export const err = (n: number): string => `ERR ${n}`;

import { readFileSync } from 'node:fs';
import { transpileComponent } from '../../src/precompile/transpile-component.js';
import { commandRun, instantiateComponent, isComponentError } from '../../src/runtime/component-instance.js';
import type { ComponentModules } from '../../src/runtime/thread-protocol.js';
import { WasiExit, type MountTable, type StdinSource } from '../../src/wasi/index.js';
import { Wasi2Host } from '../../src/wasi2/wasi2-host.js';
import { fixturePath } from '../support/temp-dir.js';
import type { ProbeRun } from '../wasi/probe-guest.js';

let probe: Promise<ComponentModules> | null = null;

/** fixtures/c/wasi_probe.c as a component (preview1 adapter), transpiled once per test process. */
export function loadComponentProbe(): Promise<ComponentModules> {
  probe ??= transpileComponent(readFileSync(fixturePath('wasi_probe.component.wasm'))).then((t) => ({
    glueKey: 'wasi_probe.component',
    glue: t.glue,
    cores: Object.fromEntries(t.cores.map((c) => [c.name, new WebAssembly.Module(c.bytes as Uint8Array<ArrayBuffer>)])),
  }));
  return probe;
}

/**
 * runProbe (test/wasi/probe-guest.ts) for the component: the same guest and ops, every file
 * system call going wasi:filesystem → Warren's WASI 0.2 host instead of preview1 directly.
 */
export function runComponentProbe(
  mods: ComponentModules,
  mounts: MountTable,
  ops: string[],
  opts: { stdin?: StdinSource; env?: Record<string, string>; maxOutputBytes?: number; diskQuotaBytes?: number; maxOpenFiles?: number } = {},
): ProbeRun {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const host = new Wasi2Host({
    args: ['probe', ...ops], env: opts.env ?? {}, mounts, stdin: opts.stdin ?? null,
    stdout: (c) => out.push(c), stderr: (c) => err.push(c),
    maxOutputBytes: opts.maxOutputBytes, diskQuotaBytes: opts.diskQuotaBytes, maxOpenFiles: opts.maxOpenFiles,
  });
  let exitCode = 0;
  try {
    const run = commandRun(instantiateComponent(mods, host.imports).exports)!;
    try {
      run();
    } catch (e) {
      if (e instanceof WasiExit) exitCode = e.code;
      else if (isComponentError(e)) exitCode = 1;
      else throw e;
    }
  } finally {
    host.close();
  }
  const stdout = Buffer.concat(out).toString('utf8');
  return { exitCode, stdout, stderr: Buffer.concat(err).toString('utf8'), host: host.bridge.host, lines: stdout.split('\n').filter(Boolean) };
}

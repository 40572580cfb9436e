/**
 * Creating a worker (issue 16 point 4): a version with 1,000 read-only files (100 MB) + 10
 * read-write files against one with 10 read-only files + 10 read-write files, and against
 * `cp -r` of the big version's component dir (its files, manifest and module), in the same run. Worker roots are overlays: a version's
 * read-only files are placed once per node (its shared tree, `<data>/trees/<hex>`) and each
 * worker's own layer gets its read-write files only. The first create of each version places
 * that tree and is reported on its own; the medians are of the creates after it.
 *
 * In process (`createWorker` on an embedded node: SQLite registry, cacache store), no HTTP.
 * Page cache: warm for everything (nothing dropped); `sync` before each timed `cp -r`, whose own
 * write-back is not timed (flatters cp).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packComponentFiles } from '../src/manifest/pack-files.js';
import { parseManifest } from '../src/manifest/parse-manifest.js';
import { pushComponent } from '../src/services/components/push-component.js';
import { WarrenNode } from '../src/services/warren-node.js';
import { createWorker } from '../src/services/workers/create-worker.js';
import { fixturePath } from '../test/support/temp-dir.js';
import { writeBenchResult } from './bench-result.js';

const RUNS = Number(process.env.WARREN_BENCH_RUNS ?? 60);
const CP_RUNS = 5;
const FILE_BYTES = 100 * 1000;
const RW_FILES = 10;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** A component dir: `readOnly` files of FILE_BYTES under /assets (10 dirs), RW_FILES small ones under /data. */
function componentDir(base: string, name: string, readOnly: number): string {
  const dir = join(base, name);
  for (let i = 0; i < readOnly; i++) {
    mkdirSync(join(dir, 'assets', `d${i % 10}`), { recursive: true });
    writeFileSync(join(dir, 'assets', `d${i % 10}`, `file-${i}.bin`), randomBytes(FILE_BYTES));
  }
  mkdirSync(join(dir, 'data'), { recursive: true });
  for (let i = 0; i < RW_FILES; i++) writeFileSync(join(dir, 'data', `state-${i}.json`), randomBytes(1024));
  mkdirSync(join(dir, 'build'), { recursive: true });
  copyFileSync(fixturePath('worker_files.reactor.wasm'), join(dir, 'build', 'main.wasm'));
  writeFileSync(
    join(dir, 'warren.toml'),
    [
      `name = "${name}"`, 'namespace = "bench"', 'version = "1.0.0"', 'binary = "build/main.wasm"', '',
      '[[files]]', 'source = "./assets"', 'target = "/assets"', 'permissions = "read-only"', '',
      '[[files]]', 'source = "./data"', 'target = "/data"', 'permissions = "read-write"', '',
    ].join('\n'),
  );
  return dir;
}

async function push(node: WarrenNode, dir: string): Promise<void> {
  const manifest = parseManifest(readFileSync(join(dir, 'warren.toml'), 'utf8'));
  const packed = await packComponentFiles(dir, manifest);
  try {
    await pushComponent(node.ctx, { manifest, module: readFileSync(join(dir, 'build', 'main.wasm')), filesZip: packed.zipPath ?? undefined });
  } finally {
    if (packed.zipPath) rmSync(packed.zipPath, { force: true });
  }
}

const base = join(process.env.WARREN_BENCH_TMP ?? tmpdir(), `warren-create-bench-${process.pid}`);
try {
  const big = componentDir(join(base, 'src'), 'big', 1000);
  const small = componentDir(join(base, 'src'), 'small', 10);
  const node = await WarrenNode.open({ dataDir: join(base, 'data'), jobThreads: 1 });
  try {
    await push(node, big);
    await push(node, small);
    let n = 0;
    const create = async (component: string): Promise<number> => {
      const t = performance.now();
      await createWorker(node.ctx, { component, name: `w${n++}` });
      return performance.now() - t;
    };
    // The first create of each version places its shared tree on the node.
    const firstBigMs = await create('bench.big');
    const firstSmallMs = await create('bench.small');
    const bigMs: number[] = [];
    const smallMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      bigMs.push(await create('bench.big'));
      smallMs.push(await create('bench.small'));
    }
    const cpMs: number[] = [];
    for (let run = 0; run < CP_RUNS; run++) {
      const copy = join(base, `copy-${run}`);
      execFileSync('sync');
      const t = performance.now();
      execFileSync('cp', ['-r', big, copy]);
      cpMs.push(performance.now() - t);
      rmSync(copy, { recursive: true });
    }
    const bigMedian = median(bigMs);
    const smallMedian = median(smallMs);
    const cpMedian = median(cpMs);
    writeBenchResult('worker-create', {
      runs: RUNS,
      note: "medians of creates after each version's first (the first places the version's shared read-only tree, once per node)",
      big: { readOnlyFiles: 1000, readOnlyBytes: 1000 * FILE_BYTES, readWriteFiles: RW_FILES, firstCreateMs: round(firstBigMs, 1), createMedianMs: round(bigMedian, 2) },
      small: { readOnlyFiles: 10, readWriteFiles: RW_FILES, firstCreateMs: round(firstSmallMs, 1), createMedianMs: round(smallMedian, 2) },
      cpDashR: { runs: CP_RUNS, medianMs: round(cpMedian, 1), pageCache: 'warm (not dropped); sync before each run; write-back not timed' },
      ratios: {
        bigOverSmall: { value: round(bigMedian / smallMedian), target: 1.2, ok: bigMedian / smallMedian <= 1.2 },
        bigOverCpDashR: { value: round(bigMedian / cpMedian), target: 0.02, ok: bigMedian / cpMedian <= 0.02 },
      },
    });
  } finally {
    await node.close();
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}

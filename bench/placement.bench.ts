/**
 * Placement vs copying. A component tree of 1,000 read-only files plus 10 small read-write files
 * is put into a real DiskBlobs; `placeFileTree` (hardlinks) is timed against `cp -r` of an
 * equivalent plain directory, in the same run, at 100 MB and at 1 GB.
 *
 * Page cache: nothing is dropped (that needs root on the host and slows everyone else's work).
 * The sources of both are warm (just written), the favourable case for cp, which reads every
 * byte; placement reads none. `sync` runs before each timed run so earlier write-back does not
 * land in it; cp's own write-back is not timed (no fsync), which flatters cp again.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DiskBlobs } from '../src/ports/embedded/disk-blobs.js';
import { placeFileTree } from '../src/fsplace/place-file-tree.js';
import type { FileTree, FileTreeEntry } from '../src/records.js';
import { writeBenchResult } from './bench-result.js';

const RUNS = Number(process.env.WARREN_BENCH_RUNS ?? 5);
const FILES = 1000;
const RW_FILES = 10;

interface SizeResult {
  totalBytes: number;
  placementMs: number[];
  copyMs: number[];
  placementMedianMs: number;
  copyMedianMs: number;
  ratio: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function measure(base: string, label: string, fileSize: number): Promise<SizeResult> {
  const dir = join(base, label);
  const blobs = new DiskBlobs(join(dir, 'blobs'));
  const plain = join(dir, 'plain');
  const entries: FileTreeEntry[] = [];
  for (let i = 0; i < FILES + RW_FILES; i++) {
    const rw = i >= FILES;
    const bytes = randomBytes(rw ? 1024 : fileSize);
    const path = rw ? `/data/state-${i}.json` : `/assets/d${i % 10}/file-${i}.bin`;
    const info = await blobs.put(bytes);
    entries.push({ path, digest: info.integrity, mode: rw ? 'rw' : 'ro', size: info.size });
    mkdirSync(join(plain, path, '..'), { recursive: true });
    writeFileSync(join(plain, path), bytes);
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));
  const tree: FileTree = { version: 1, entries };
  const totalBytes = entries.reduce((n, e) => n + e.size, 0);
  const placementMs: number[] = [];
  const copyMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const root = join(dir, `root-${run}`);
    execFileSync('sync');
    let t = performance.now();
    const r = await placeFileTree({ blobs, tree, root });
    placementMs.push(performance.now() - t);
    if (r.linked !== FILES || r.copied !== RW_FILES) throw new Error(`unexpected placement ${JSON.stringify(r)}`);
    rmSync(root, { recursive: true });

    const copy = join(dir, `copy-${run}`);
    execFileSync('sync');
    t = performance.now();
    execFileSync('cp', ['-r', plain, copy]);
    copyMs.push(performance.now() - t);
    rmSync(copy, { recursive: true });
  }
  rmSync(dir, { recursive: true, force: true });
  const placementMedianMs = median(placementMs);
  const copyMedianMs = median(copyMs);
  return { totalBytes, placementMs, copyMs, placementMedianMs, copyMedianMs, ratio: placementMedianMs / copyMedianMs };
}

const base = join(process.env.WARREN_BENCH_TMP ?? tmpdir(), `warren-placement-bench-${process.pid}`);
try {
  const small = await measure(base, '100mb', 100 * 1000);
  const large = await measure(base, '1gb', 1000 * 1000);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  writeBenchResult('placement', {
    runs: RUNS,
    files: { readOnly: FILES, readWrite: RW_FILES },
    pageCache: 'warm for both (not dropped); sync before each timed run; cp write-back not timed',
    at100MB: small,
    at1GB: large,
    ratios: {
      placementOverCopyAt100MB: { value: round(small.ratio), target: 0.1, ok: small.ratio <= 0.1 },
      placementOverCopyAt1GB: { value: round(large.ratio), target: 0.03, ok: large.ratio <= 0.03 },
      placement1GBOver100MB: {
        value: round(large.placementMedianMs / small.placementMedianMs),
        target: 1.2,
        ok: large.placementMedianMs / small.placementMedianMs <= 1.2,
      },
    },
  });
} finally {
  rmSync(base, { recursive: true, force: true });
}

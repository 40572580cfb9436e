/**
 * Snapshots of a worker with 64 MiB of touched memory (fixtures/c/snap_memory.reactor.c): the
 * first commit (every page new to the store) is the baseline; a second commit after 1% of the
 * pages changed is measured against it (bytes written and time); then resume after a pause
 * (restore of every page into a new instance). Services are called directly (no HTTP) on a real
 * node with real files. Targets: second commit ≤ 3% of the first's bytes and ≤ 0.2x its time;
 * resume < 100 ms.
 */
import { performance } from 'node:perf_hooks';
import { commitWorker, pauseWorker, resumeWorker } from '../src/services/snapshots/index.js';
import { invokeWorker } from '../src/services/workers/invoke-worker.js';
import { startTestServer } from '../test/support/start-server.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import { createWorker } from '../test/workers/worker-fixtures.js';
import { pushSnapComponent } from '../test/snapshots/snapshot-fixtures.js';
import { writeBenchResult } from './bench-result.js';

const MIB = Number(process.env.WARREN_BENCH_SNAPSHOT_MIB ?? 64);
const RUNS = Number(process.env.WARREN_BENCH_RUNS ?? 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const work = makeTempDir('warren-bench-snap-');
const server = await startTestServer({ jobThreads: 1 });
try {
  const ctx = server.node.ctx;
  await pushSnapComponent(server.client, work.path, { name: 'bigmem', wasm: 'snap_memory.reactor.wasm', memory: '256MiB', timeout: '60s' });
  const checksumOf = async (id: string) => Number((await invokeWorker(ctx, id, { export: 'checksum' })).returns![0]);

  const firstMs: number[] = [];
  const firstBytes: number[] = [];
  const secondMs: number[] = [];
  const secondBytes: number[] = [];
  const secondPages: number[] = [];
  const resumeMs: number[] = [];
  let pages = 0;
  for (let run = 0; run < RUNS; run++) {
    // A fresh worker each run, its pages seeded apart from earlier runs': the first commit writes every page.
    const w = await createWorker(server.client, 'sh.snap.bigmem', `b${run}`);
    await invokeWorker(ctx, w.id, { export: 'fill', args: [MIB, run + 1] });
    let t = performance.now();
    const first = await commitWorker(ctx, w.id);
    firstMs.push(performance.now() - t);
    firstBytes.push(first.stats.memoryBytesWritten + first.stats.fileBytesWritten);
    pages = first.stats.pages;

    await invokeWorker(ctx, w.id, { export: 'dirty', args: [1] });
    t = performance.now();
    const second = await commitWorker(ctx, w.id);
    secondMs.push(performance.now() - t);
    secondBytes.push(second.stats.memoryBytesWritten + second.stats.fileBytesWritten);
    secondPages.push(second.stats.pagesWritten);

    const before = await checksumOf(w.id);
    await pauseWorker(ctx, w.id);
    t = performance.now();
    await resumeWorker(ctx, w.id);
    resumeMs.push(performance.now() - t);
    const after = await checksumOf(w.id);
    if (after !== before) throw new Error(`run ${run}: checksum ${after} after resume, ${before} before`);
  }
  const first = { ms: median(firstMs), bytes: median(firstBytes) };
  const second = { ms: median(secondMs), bytes: median(secondBytes), pagesWritten: median(secondPages) };
  const resume = median(resumeMs);
  const result = {
    memoryMiB: MIB,
    nonZeroPages: pages,
    runs: RUNS,
    firstCommit: { medianMs: first.ms, bytesWritten: first.bytes, ms: firstMs },
    secondCommit: { medianMs: second.ms, bytesWritten: second.bytes, pagesWritten: second.pagesWritten, ms: secondMs },
    resume: { medianMs: resume, ms: resumeMs },
    ratios: { secondBytesOverFirst: second.bytes / first.bytes, secondTimeOverFirst: second.ms / first.ms },
    targets: {
      secondBytesAtMost3Percent: second.bytes / first.bytes <= 0.03,
      secondTimeAtMost02x: second.ms / first.ms <= 0.2,
      resumeUnder100ms: resume < 100,
    },
  };
  writeBenchResult('snapshots', result);
} finally {
  await server.close();
  work.dispose();
}

/**
 * Snapshots of a worker with 64 MiB of touched memory (fixtures/c/snap_memory.reactor.c), each
 * against a baseline measured in the same run on the same disk:
 * - first commit (every page new to the store) vs writing + fsyncing the same bytes to one file
 *   (target ≤ 3x);
 * - second commit after 1% of the pages changed vs the first (≤ 0.1x its time, ≤ 3% its bytes);
 * - resume after a pause + one call vs reading the same bytes from one file (≤ 2x, ≤ 100 ms);
 * - `[snapshots] on_call = "full"` on a worker with < 1 MiB of memory: extra p50 per call (≤ 5 ms).
 * Services are called directly (no HTTP) on a real node with real files.
 */
import { performance } from 'node:perf_hooks';
import { closeSync, fdatasyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { commitWorker, pauseWorker, resumeWorker } from '../src/services/instances/index.js';
import { invokeWorker } from '../src/services/instances/invoke-worker.js';
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
  const rawWriteMs: number[] = [];
  const rawReadMs: number[] = [];
  let pages = 0;
  /** The baselines: the same number of bytes written + fdatasynced to one file, then read back. */
  const raw = (bytes: number) => {
    const file = join(work.path, 'raw.bin');
    const buf = Buffer.alloc(bytes, 0x5a);
    let t = performance.now();
    let fd = openSync(file, 'w');
    for (let off = 0; off < bytes; ) off += writeSync(fd, buf, off, bytes - off);
    fdatasyncSync(fd);
    closeSync(fd);
    rawWriteMs.push(performance.now() - t);
    const into = Buffer.alloc(bytes);
    t = performance.now();
    fd = openSync(file, 'r');
    for (let off = 0; off < bytes; ) {
      const n = readSync(fd, into, off, bytes - off, off);
      if (n === 0) break;
      off += n;
    }
    closeSync(fd);
    rawReadMs.push(performance.now() - t);
    rmSync(file);
  };
  for (let run = 0; run < RUNS; run++) {
    // A fresh worker each run, its pages seeded apart from earlier runs': the first commit writes every page.
    const w = await createWorker(server.client, 'sh.snap.bigmem', `b${run}`);
    await invokeWorker(ctx, w.id, { export: 'fill', args: [MIB, run + 1] });
    let t = performance.now();
    const first = await commitWorker(ctx, w.id);
    firstMs.push(performance.now() - t);
    firstBytes.push(first.stats.memoryBytesWritten + first.stats.fileBytesWritten);
    pages = first.stats.pages;
    raw(first.stats.memoryBytesWritten);

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
    await invokeWorker(ctx, w.id, { export: 'dirty', args: [0] });
    resumeMs.push(performance.now() - t);
    const after = await checksumOf(w.id);
    if (after !== before) throw new Error(`run ${run}: checksum ${after} after resume, ${before} before`);
  }
  const first = { ms: median(firstMs), bytes: median(firstBytes) };
  const second = { ms: median(secondMs), bytes: median(secondBytes), pagesWritten: median(secondPages) };
  // on_call = "full" on a small worker (snap_counter, < 1 MiB of memory): per-call latency with a
  // committed snapshot after every call against the same calls without, interleaved.
  await pushSnapComponent(server.client, work.path, { name: 'plain' });
  await pushSnapComponent(server.client, work.path, { name: 'durable', onCall: 'full' });
  const plain = await createWorker(server.client, 'sh.snap.plain', 'plain');
  const durable = await createWorker(server.client, 'sh.snap.durable', 'durable');
  const plainMs: number[] = [];
  const durableMs: number[] = [];
  const timeCall = async (id: string, into: number[]) => {
    const t0 = performance.now();
    await invokeWorker(ctx, id, { export: 'increment' });
    into.push(performance.now() - t0);
  };
  for (let i = 0; i < 20; i++) {
    await timeCall(plain.id, []);
    await timeCall(durable.id, []);
  }
  for (let i = 0; i < 200; i++) {
    await timeCall(plain.id, plainMs);
    await timeCall(durable.id, durableMs);
  }
  const onCall = { plainP50Ms: median(plainMs), fullP50Ms: median(durableMs), extraP50Ms: median(durableMs) - median(plainMs) };
  const resume = median(resumeMs);
  const rawWrite = median(rawWriteMs);
  const rawRead = median(rawReadMs);
  const result = {
    memoryMiB: MIB,
    nonZeroPages: pages,
    runs: RUNS,
    firstCommit: { medianMs: first.ms, bytesWritten: first.bytes, ms: firstMs },
    secondCommit: { medianMs: second.ms, bytesWritten: second.bytes, pagesWritten: second.pagesWritten, ms: secondMs },
    resumeAndCall: { medianMs: resume, ms: resumeMs },
    onCallFull: { plainP50Ms: onCall.plainP50Ms, fullP50Ms: onCall.fullP50Ms, extraP50Ms: onCall.extraP50Ms },
    baselines: { writeAndFsyncMs: rawWrite, readMs: rawRead, writeMs: rawWriteMs, readMsAll: rawReadMs },
    ratios: {
      firstCommitOverWriteFsync: first.ms / rawWrite,
      secondTimeOverFirst: second.ms / first.ms,
      secondBytesOverFirst: second.bytes / first.bytes,
      resumeOverRead: resume / rawRead,
    },
    targets: {
      firstCommitAtMost3xWriteFsync: first.ms / rawWrite <= 3,
      secondTimeAtMost01x: second.ms / first.ms <= 0.1,
      secondBytesAtMost3Percent: second.bytes / first.bytes <= 0.03,
      resumeAndCallUnder100ms: resume <= 100,
      resumeAtMost2xRead: resume / rawRead <= 2,
      onCallFullExtraAtMost5ms: onCall.extraP50Ms <= 5,
    },
  };
  console.error(
    `first commit ${first.ms.toFixed(1)} ms = ${(first.ms / rawWrite).toFixed(2)}x write+fsync (${rawWrite.toFixed(1)} ms); ` +
      `second ${second.ms.toFixed(1)} ms = ${(second.ms / first.ms).toFixed(3)}x, ${((100 * second.bytes) / first.bytes).toFixed(2)}% of bytes; ` +
      `resume+call ${resume.toFixed(1)} ms = ${(resume / rawRead).toFixed(2)}x read (${rawRead.toFixed(1)} ms); ` +
      `on_call full: p50 ${onCall.fullP50Ms.toFixed(2)} ms against ${onCall.plainP50Ms.toFixed(2)} ms, +${onCall.extraP50Ms.toFixed(2)} ms`,
  );
  writeBenchResult('snapshots', result);
} finally {
  await server.close();
  work.dispose();
}

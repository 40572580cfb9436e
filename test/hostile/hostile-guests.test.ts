import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { fixturePath, makeTempDir, repoRoot } from '../support/temp-dir.js';
import { createWorker, pushTestComponent } from '../workers/worker-fixtures.js';
import { bump, summary } from './hostile-config.js';
import { runWithDeadline } from '../../src/runtime/deadline.js';

const counts = summary('hostile-guests');
const run = promisify(execFile);
const work = makeTempDir('warren-hostile-guests-');
const OUTPUT_CAP = 512 * 1024;
const DISK_QUOTA = 1024 * 1024;
let server: TestServer;
/** Secrets next to (outside) every worker root: `<data>/admin.token` and `<data>/workers/sentinel.txt`. */
const secret = `SECRET-${randomBytes(8).toString('hex')}`;
const hostPasswd = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!.slice(0, 12);

before(async () => {
  // The deadline addon, not the backstop, must stop the loop: a stalled machine must not replace the thread.
  server = await startTestServer({ maxOutputBytes: OUTPUT_CAP, jobThreads: 2, backstopGraceMs: 10 * 60_000 });
  writeFileSync(join(server.dataDir, 'admin.token'), secret);
  writeFileSync(join(server.dataDir, 'workers', 'sentinel.txt'), secret);
  // Where the timeout is not what is tested, it is generous: a slow or loaded machine must not
  // turn a million writes into E_TIMEOUT. `looper` (2 s) is for the attacks that never end.
  const limits = { memory: '8MiB', timeout: '300s', disk: '1MiB' };
  const guest = {
    wasm: 'hostile_guest.wasm',
    files: { 'static/hello.txt': 'hello', 'state/notes.txt': 'notes' },
    modes: { '/state/notes.txt': 'read-write' as const },
  };
  await pushTestComponent(server.client, work.path, 'sh.hostile', 'guest', '1.0.0', { ...guest, limits });
  await pushTestComponent(server.client, work.path, 'sh.hostile', 'looper', '1.0.0', { ...guest, limits: { ...limits, timeout: '2s' } });
  await pushTestComponent(server.client, work.path, 'sh.hostile', 'recurse', '1.0.0', { wasm: 'hostile_recurse.wasm', limits });
});
after(async () => {
  await server.close();
  work.dispose();
});

interface JobOutcome {
  status: number;
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a job; resolves with its output, or rejects with the WarrenError the API answered. */
async function job(fq: string, args: string[], stdin = ''): Promise<JobOutcome> {
  bump(counts, 'attacks');
  const q = new URLSearchParams(args.map((a) => ['arg', a]));
  const res = await server.client.raw('POST', `/v1/jobs/${fq}/run?${q}`, Buffer.from(stdin), { 'content-type': 'application/octet-stream' });
  const stdout = (await readAll(res.body)).toString('utf8');
  const t = res.trailers();
  if (t['x-warren-error']) throw new Error(`job failed after streaming: ${t['x-warren-error']}`);
  return {
    status: res.status,
    stdout,
    exitCode: Number(t['x-warren-exit-code'] ?? res.headers['x-warren-exit-code']),
    stderr: decodeURIComponent(String(t['x-warren-stderr'] ?? res.headers['x-warren-stderr'] ?? '')),
  };
}

async function refusedWith(p: Promise<unknown>, code: string, status: number): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    assert.ok(isWarrenError(err), `expected ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.details.status, status);
    bump(counts, `refused ${code}`);
    return err.details;
  }
  assert.fail(`expected ${code}`);
}

async function stillServing(): Promise<void> {
  const out = await job('sh.hostile.guest', ['hello']);
  assert.equal(out.stdout, 'hello OK still-serving\n');
  const health = await server.client.raw('GET', '/healthz');
  assert.equal(health.status, 200);
  await readAll(health.body);
}

async function invokeStdin(id: string, stdin: string): Promise<{ stdout: string; exitCode: number }> {
  bump(counts, 'attacks');
  const res = await server.client.raw('POST', `/v1/workers/${id}/invoke?stdin=1`, Buffer.from(stdin), { 'content-type': 'application/octet-stream' });
  return { stdout: (await readAll(res.body)).toString('utf8'), exitCode: Number(res.headers['x-warren-exit-code']) };
}

/** Each line of an attack's report is "<what> OK <detail>" or "<what> ERR <WASI errno>". */
function reportLines(stdout: string): { what: string; ok: boolean; errno: number; detail: string }[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(.*?) (OK|ERR) ?(.*)$/.exec(line);
      assert.ok(m, `unexpected guest line ${JSON.stringify(line)}`);
      const ok = m[2] === 'OK';
      if (!ok) assert.match(m[3]!, /^\d+/, `an errno, not a crash: ${line}`);
      return { what: m[1]!, ok, errno: ok ? 0 : Number.parseInt(m[3]!, 10), detail: m[3]! };
    });
}

function assertNoLeak(text: string): void {
  for (const leak of [secret, hostPasswd, 'Name:\t', 'VmRSS', 'PPid:']) assert.ok(!text.includes(leak), `guest output shows ${JSON.stringify(leak)}:\n${text}`);
}

test('an infinite loop: E_TIMEOUT, the loop is stopped, the node keeps serving (also with jobs in parallel)', async () => {
  const before = server.node.ctx.pool.stats.timeouts;
  const spawned = server.node.ctx.pool.stats.threadsSpawned;
  const [loop, ...hellos] = await Promise.allSettled([job('sh.hostile.looper', ['loop']), ...[1, 2, 3, 4].map(() => job('sh.hostile.guest', ['hello']))]);
  await refusedWith(loop.status === 'rejected' ? Promise.reject(loop.reason) : Promise.resolve(loop.value), 'E_TIMEOUT', 408);
  for (const h of hellos) assert.equal(h.status === 'fulfilled' && h.value.stdout, 'hello OK still-serving\n');
  assert.equal(server.node.ctx.pool.stats.timeouts, before + 1);
  if (runWithDeadline) {
    // Job threads stop a job past its timeout themselves (JobLanes) and go on with the next.
    assert.equal(server.node.ctx.pool.stats.threadsSpawned, spawned, 'the job thread stopped the loop and lives on');
  } else {
    assert.ok(server.node.ctx.pool.stats.threadsSpawned > spawned, 'a fresh thread replaced the stopped one');
  }
  await stillServing();
});

test('spinning in poll_oneoff (zero timeouts, or one hour): E_TIMEOUT, node keeps serving', async () => {
  await refusedWith(job('sh.hostile.looper', ['poll-spin']), 'E_TIMEOUT', 408);
  await refusedWith(job('sh.hostile.looper', ['poll-sleep']), 'E_TIMEOUT', 408);
  await stillServing();
});

test('memory growth to the limit: grow stops at the limit; a trap there is E_MEMORY_LIMIT', async () => {
  const out = await job('sh.hostile.guest', ['grow']);
  const pages = Number(/pages=(\d+)/.exec(out.stdout)?.[1]);
  assert.equal(pages * 65536, 8 * 1024 * 1024, 'memory.grow refused exactly at the manifest limit');
  await refusedWith(job('sh.hostile.guest', ['grow-trap']), 'E_MEMORY_LIMIT', 422);
  await stillServing();
});

test('deep recursion: a stack overflow trap is E_TRAP', async () => {
  const details = await refusedWith(job('sh.hostile.recurse', []), 'E_TRAP', 422);
  assert.equal(details.trap, 'stack overflow');
  await stillServing();
});

test('a million one-byte writes: cut at the output cap with E_OUTPUT_LIMIT; under the cap nothing is lost', async () => {
  const details = await refusedWith(job('sh.hostile.guest', ['spam', '1000000']), 'E_OUTPUT_LIMIT', 422);
  assert.equal(details.limitBytes, OUTPUT_CAP);
  const ok = await job('sh.hostile.guest', ['spam', '200000']);
  assert.equal(ok.stdout.length, 200_000);
  assert.match(ok.stderr, /spam fails=0/);
  await stillServing();
});

let pathsWorker: WorkerRecord;

test('reading /proc, /etc/passwd and the data dir through every path trick: only errnos, no host bytes', async () => {
  pathsWorker = await createWorker(server.client, 'sh.hostile.guest', 'paths');
  const out = await invokeStdin(pathsWorker.id, 'paths');
  assert.equal(out.exitCode, 0, out.stdout);
  assertNoLeak(out.stdout);
  const lines = reportLines(out.stdout);
  bump(counts, 'path tricks', lines.length);
  const by = new Map(lines.map((l) => [l.what, l]));
  // Links and renames that would leave the root are refused at creation; absolute targets too.
  for (const what of ['symlink l-abs', 'symlink l-proc', 'link hard', 'link hard-up', 'rename up', 'rename abs']) {
    assert.equal(by.get(what)?.ok, false, `${what} should be refused: ${JSON.stringify(by.get(what))}`);
  }
  // Every read of a host file fails or shows guest bytes; listing `..` shows the root itself.
  for (const l of lines.filter((x) => x.what.startsWith('read ') || x.what.startsWith('rawopen '))) {
    if (l.ok) assert.ok(!/root:|SECRET|Name:/.test(l.detail), `${l.what} read host bytes: ${l.detail}`);
  }
  const rootListing = by.get('ls /')!.detail;
  assert.match(rootListing, /static/);
  for (const what of ['ls ..', 'ls /..']) {
    const l = by.get(what)!;
    assert.ok(!l.ok || l.detail === rootListing, `${what} left the root: ${l.detail}`);
  }
  // Host side: nothing appeared next to the root.
  const workerDir = join(server.dataDir, 'workers', pathsWorker.id);
  assert.deepEqual(readdirSync(workerDir).filter((n) => n !== 'root' && !n.startsWith('.')), readdirSync(workerDir).filter((n) => n !== 'root' && !n.startsWith('.') && n !== 'escaped'));
  assert.equal(readFileSync(join(server.dataDir, 'admin.token'), 'utf8'), secret);
  assert.ok(!readdirSync(join(server.dataDir, 'workers')).includes('escaped'));
});

test('the same path tricks through `warren exec` with one mount', async () => {
  const dir = join(work.path, 'exec-mount');
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run(process.execPath, [join(repoRoot, 'bin/warren.js'), 'exec', fixturePath('hostile_guest.wasm'), '--dir', `${dir}::/data`, '--timeout', '10s', '--', 'paths'], {
    cwd: work.path,
    maxBuffer: 16 * 1024 * 1024,
  });
  assertNoLeak(stdout);
  const lines = reportLines(stdout);
  bump(counts, 'attacks');
  bump(counts, 'path tricks', lines.length);
  for (const l of lines.filter((x) => x.what.startsWith('read '))) assert.equal(l.ok, false, `${l.what} opened something outside the only mount`);
  assert.deepEqual(readdirSync(work.path).sort(), readdirSync(work.path).filter((n) => n !== 'escaped').sort());
});

test('filling the disk quota: ENOSPC every way (append, sparse pwrite, ftruncate, fallocate, links); the host holds no more than the quota', async () => {
  const w = await createWorker(server.client, 'sh.hostile.guest', 'disk');
  const out = await invokeStdin(w.id, 'disk');
  assert.equal(out.exitCode, 0, out.stdout);
  const lines = reportLines(out.stdout);
  const by = new Map(lines.map((l) => [l.what, l]));
  assert.equal(by.get('append')?.errno, 51, 'append stops with ENOSPC');
  const appended = Number(/bytes=(\d+)/.exec(by.get('append')!.detail)?.[1]);
  assert.ok(appended <= DISK_QUOTA && appended > DISK_QUOTA / 2, `appended ${appended}`);
  for (const what of ['pwrite-far', 'ftruncate-far', 'fallocate-far', 'truncate-far', 'append-via-link', 'append-via-first']) {
    const l = by.get(what)!;
    assert.equal(l.ok, false, `${what} got past the quota`);
    // ENOSPC, EFBIG, or ENOTSUP for fd_allocate (as wasmtime, which does not implement it)
    assert.ok([51, 22, 58].includes(l.errno), `${what}: ENOSPC/EFBIG/ENOTSUP, got ${l.errno}`);
  }
  assert.equal(by.get('write-after-free')?.ok, true, 'freed space is usable again');
  // Host side: apparent sizes and allocated blocks of the worker's files stay within the quota.
  let apparent = 0;
  let allocated = 0;
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else if (st.isFile()) {
      apparent += st.size;
      allocated += st.blocks * 512;
    }
  };
  walk(join(server.dataDir, 'workers', w.id, 'root'));
  assert.ok(apparent <= DISK_QUOTA + 4096, `apparent bytes ${apparent}`);
  assert.ok(allocated <= DISK_QUOTA + 256 * 1024, `allocated bytes ${allocated}`);
  bump(counts, 'disk attacks', lines.length);
});

test('opening files until the fd limit: EMFILE, and the worker recovers once they are closed', async () => {
  // The attack comes as an argument: a second `_start` in one live instance finds libc's stdin at EOF.
  const w = await createWorker(server.client, 'sh.hostile.guest', 'fds', { args: ['fds'] });
  const out = await invokeStdin(w.id, '');
  const lines = reportLines(out.stdout);
  const by = new Map(lines.map((l) => [l.what, l]));
  assert.equal(by.get('open-until-fail')?.errno, 33, out.stdout);
  const opened = Number(/count=(\d+)/.exec(by.get('open-until-fail')!.detail)?.[1]);
  assert.ok(opened > 900 && opened <= 1024, `opened ${opened}`);
  assert.equal(by.get('open-after-close')?.ok, true);
  // A second run in the same live instance: the fds of the first were all closed.
  const again = reportLines((await invokeStdin(w.id, '')).stdout);
  assert.equal(again.find((l) => l.what === 'open-until-fail')?.errno, 33);
  await stillServing();
});

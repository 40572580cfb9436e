import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { readAll } from '../../src/cli/api-client.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { call, createWorker, listFiles, pushTestComponent } from './worker-fixtures.js';

/**
 * /v1/workers/{id}/archive once resolved every entry again from its mount root (a tree 1,000
 * deep took a minute, 2,000 deep over 8), went on after its client left, held the worker's call
 * queue all along, and left `staging/read-w_…` behind across restarts. Nothing here measures
 * time: each test waits for what it checks (a metric, the staging dir, a reply).
 */
let server: TestServer;
const work = makeTempDir('warren-archive-');
const DEPTH = 1000;

before(async () => {
  server = await startTestServer();
  await pushTestComponent(server.client, work.path, 'test', 'archive', '1.0.0', {
    files: { 'static/greeting.txt': 'hi\n', 'state/own.txt': '7' },
    modes: { '/static/greeting.txt': 'read-only', '/state/own.txt': 'read-write' },
  });
});
after(async () => {
  await server.close();
  work.dispose();
});

const rootOf = (id: string) => join(server.dataDir, 'workers', id, 'root');
const stagingReads = () => (existsSync(join(server.dataDir, 'staging')) ? readdirSync(join(server.dataDir, 'staging')).filter((n) => n.startsWith('read-')) : []);

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = server.node.ctx.metrics.registry.getSingleMetric(name);
  assert.ok(m, name);
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k as keyof typeof v.labels] === x)).reduce((n, v) => n + v.value, 0);
}

/** Waits for a condition the server reaches on its own (no fixed sleep: it checks again until it holds). */
async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i > 30_000) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function zipEntries(bytes: Buffer): Promise<Map<string, Buffer | null>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out = new Map<string, Buffer | null>();
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          out.set(entry.fileName, null);
          return zip.readEntry();
        }
        zip.openReadStream(entry, async (e, stream) => {
          if (e || !stream) return reject(e);
          out.set(entry.fileName, await readAll(stream));
          zip.readEntry();
        });
      });
      zip.once('end', () => resolve(out));
      zip.once('error', reject);
      zip.readEntry();
    });
  });
}

/** A GET of the archive whose body the test reads (or not) itself. */
function openArchive(id: string): { response: Promise<IncomingMessage>; abort: () => void } {
  const req = request(`${server.url}/v1/workers/${id}/archive?path=/`, { headers: { authorization: `Bearer ${server.adminToken}` }, agent: false });
  req.on('error', () => undefined);
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  response.catch(() => undefined);
  req.end();
  return { response, abort: () => req.destroy() };
}

test("a directory both layers have is listed and archived merged: the version's read-only files and the worker's own", async () => {
  const w = await createWorker(server.client, 'test.archive', 'merged');
  // The version's /static/greeting.txt is in the shared tree; what the guest adds to /static
  // lands in its own layer (written here as the guest would: the WASI layer makes the dir chain).
  assert.equal(existsSync(join(rootOf(w.id), 'static')), false, 'nothing of /static in the worker\'s layer yet');
  mkdirSync(join(rootOf(w.id), 'static', 'more'), { recursive: true });
  writeFileSync(join(rootOf(w.id), 'static', 'mine.txt'), 'mine');
  writeFileSync(join(rootOf(w.id), 'static', 'more', 'deep.txt'), 'deep');
  const listed = await listFiles(server.client, w.id, '/static', true);
  assert.deepEqual(
    listed.map((n) => [n.path, n.kind, n.permissions]),
    [
      ['/static/greeting.txt', 'file', 'read-only'],
      ['/static/mine.txt', 'file', 'read-write'],
      ['/static/more', 'directory', 'read-write'],
      ['/static/more/deep.txt', 'file', 'read-write'],
    ],
  );
  const top = await listFiles(server.client, w.id, '/');
  assert.deepEqual(top.map((n) => n.path), ['/state', '/static'], 'each name once');
  const res = await server.client.raw('GET', `/v1/workers/${w.id}/archive?path=/static`);
  assert.equal(res.status, 200);
  const entries = await zipEntries(await readAll(res.body));
  assert.deepEqual([...entries.keys()].sort(), ['greeting.txt', 'mine.txt', 'more/', 'more/deep.txt']);
  assert.equal(entries.get('greeting.txt')?.toString('utf8'), 'hi\n');
  assert.equal(entries.get('more/deep.txt')?.toString('utf8'), 'deep');
});

test('a tree 1,000 directories deep archives whole and lists whole', { timeout: 600_000 }, async () => {
  const w = await createWorker(server.client, 'test.archive', 'deep');
  let dir = join(rootOf(w.id), 'deep');
  let rel = 'deep';
  const marks = new Map<string, string>();
  for (let level = 1; level <= DEPTH; level++) {
    dir = join(dir, 'd');
    rel = `${rel}/d`;
    mkdirSync(dir, { recursive: true });
    if (level % 250 === 0) {
      writeFileSync(join(dir, 'mark.txt'), `level ${level}`);
      marks.set(`${rel}/mark.txt`, `level ${level}`);
    }
  }
  const res = await server.client.raw('GET', `/v1/workers/${w.id}/archive?path=/`);
  assert.equal(res.status, 200);
  const entries = await zipEntries(await readAll(res.body));
  const dirs = [...entries.keys()].filter((k) => k.startsWith('deep/d') && k.endsWith('/'));
  assert.equal(dirs.length, DEPTH, 'every level is in the zip');
  for (const [path, text] of marks) assert.equal(entries.get(path)?.toString('utf8'), text, path);
  assert.equal(entries.get('state/own.txt')?.toString('utf8'), '7');
  assert.equal(entries.get('static/greeting.txt')?.toString('utf8'), 'hi\n');
  const listed = await listFiles(server.client, w.id, '/deep', true);
  assert.equal(listed.filter((n) => n.kind === 'directory').length, DEPTH);
  assert.equal(listed.filter((n) => n.name === 'mark.txt').length, marks.size);
  await until('the staged copy is removed', () => stagingReads().length === 0);
});

test('a client that leaves while its archive waits in the queue: the read is cancelled and stages nothing', { timeout: 600_000 }, async () => {
  const w = await createWorker(server.client, 'test.archive', 'leaver');
  const staged = await metric('warren_file_reads_total', { outcome: 'staged' });
  const cancelled = await metric('warren_file_reads_total', { outcome: 'cancelled' });
  // The worker's queue is held by a task of the test's until it lets go.
  let release!: () => void;
  const held = server.node.ctx.live.enqueue(w.id, () => new Promise<void>((r) => (release = r)));
  const archive = openArchive(w.id);
  await until('the archive waits in the queue', async () => (await metric('warren_file_reads_waiting')) >= 1);
  archive.abort();
  await until('the read is cancelled', async () => (await metric('warren_file_reads_total', { outcome: 'cancelled' })) === cancelled + 1);
  release();
  await held;
  // A call queued behind the cancelled read runs, and the read staged nothing.
  assert.equal(await call(server.client, w.id, 'read_rw'), 7);
  assert.equal(await metric('warren_file_reads_total', { outcome: 'staged' }), staged);
  assert.equal(await metric('warren_file_reads_waiting'), 0);
  assert.deepEqual(stagingReads(), []);
});

test('a client that leaves mid-download: the stream stops and its staged copy is removed', { timeout: 600_000 }, async () => {
  const w = await createWorker(server.client, 'test.archive', 'midway');
  // Incompressible bytes, far more than the socket buffers hold: the download cannot finish unread.
  for (let i = 0; i < 8; i++) writeFileSync(join(rootOf(w.id), `state/blob-${i}.bin`), randomBytes(4 * 2 ** 20));
  const cancelled = await metric('warren_file_reads_total', { outcome: 'cancelled' });
  const archive = openArchive(w.id);
  const res = await archive.response;
  assert.equal(res.statusCode, 200);
  await new Promise((resolve) => res.once('data', resolve));
  assert.equal(stagingReads().length, 1, 'staged while it streams');
  archive.abort();
  await until('the read is counted cancelled', async () => (await metric('warren_file_reads_total', { outcome: 'cancelled' })) === cancelled + 1);
  await until('the staged copy is removed', () => stagingReads().length === 0);
});

test('an invoke while an archive is being downloaded runs and answers; the archive then completes', { timeout: 600_000 }, async () => {
  const w = await createWorker(server.client, 'test.archive', 'busy');
  for (let i = 0; i < 8; i++) writeFileSync(join(rootOf(w.id), `state/blob-${i}.bin`), randomBytes(4 * 2 ** 20));
  const archive = openArchive(w.id);
  const res = await archive.response;
  res.pause();
  // The download is open and unread: the worker's queue is free for calls.
  assert.equal(await call(server.client, w.id, 'write_rw', [42]), 0);
  assert.equal(await call(server.client, w.id, 'read_rw'), 42);
  res.resume();
  const entries = await zipEntries(await readAll(res));
  // The archive is the state before the call: it was staged first.
  assert.equal(entries.get('state/own.txt')?.toString('utf8'), '7');
  assert.equal(entries.get('state/blob-7.bin')?.length, 4 * 2 ** 20);
});

test('staging left by a previous process is removed when the node starts', { timeout: 600_000 }, async () => {
  const data = makeTempDir('warren-archive-restart-');
  const first = await startTestServer({ dataDir: data.path });
  await first.close();
  const leftover = join(data.path, 'staging', 'read-w_gone-abcdef');
  mkdirSync(leftover, { recursive: true });
  writeFileSync(join(leftover, '0'), 'left behind by a crash');
  mkdirSync(join(data.path, 'staging', 'push-123456'), { recursive: true });
  const second = await startTestServer({ dataDir: data.path });
  try {
    assert.equal(existsSync(leftover), false);
    assert.deepEqual(existsSync(join(data.path, 'staging')) ? readdirSync(join(data.path, 'staging')) : [], []);
  } finally {
    await second.close();
    data.dispose();
  }
});

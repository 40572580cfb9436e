import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DiskBlobs, contentPath } from '../../src/ports/embedded/disk-blobs.js';
import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import { LocalBus, subjectMatches } from '../../src/ports/embedded/local-bus.js';
import { isWarrenError } from '../../src/errors.js';
import { dataLayout } from '../../src/config.js';
import { WarrenNode } from '../../src/services/warren-node.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'warren-ports-'));
}

test('disk blob content paths: the in-place decoder agrees with base64 → hex for any digest, and refuses non-digests', () => {
  const blobs = new DiskBlobs('/store');
  for (let i = 0; i < 2000; i++) {
    const digest = createHash('sha256').update(randomBytes(16)).digest();
    const hex = digest.toString('hex');
    const integrity = `sha256-${digest.toString('base64')}` as Parameters<typeof contentPath>[1];
    const expected = `/store/content-v2/sha256/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex.slice(4)}`;
    assert.equal(contentPath('/store', integrity), expected);
    assert.equal(blobs.localPathHint(integrity), expected);
  }
  const good = `sha256-${createHash('sha256').update('x').digest('base64')}`;
  for (const bad of [good.replace(/.$/, 'A'), good.slice(0, 20) + '!' + good.slice(21), good.slice(0, 20) + 'é' + good.slice(21), 'sha512-' + good.slice(7), good + '=', '../../etc/passwd']) {
    assert.throws(() => blobs.localPathHint(bad as Parameters<typeof contentPath>[1]), (e) => isWarrenError(e, 'E_BAD_REQUEST'), bad);
  }
});

test('disk blobs: put, get, path, stream, delete, verify', async () => {
  const dir = tempDir();
  try {
    const blobs = new DiskBlobs(join(dir, 'store'));
    const a = await blobs.put('hello');
    assert.match(a.integrity, /^sha256-/);
    assert.equal(a.size, 5);
    assert.equal((await blobs.put('hello')).integrity, a.integrity, 'same bytes, same name');
    assert.equal((await blobs.get(a.integrity)).toString(), 'hello');
    assert.ok(await blobs.has(a.integrity));
    assert.equal(await blobs.path(a.integrity), contentPath(join(dir, 'store'), a.integrity));
    const b = await blobs.putStream(Readable.from([Buffer.from('wor'), Buffer.from('ld')]));
    const chunks: Buffer[] = [];
    for await (const c of blobs.stream(b.integrity)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'world');
    const empty = await blobs.putStream(Readable.from([]));
    assert.equal(empty.size, 0);
    assert.equal((await blobs.get(empty.integrity)).length, 0);
    await blobs.delete(empty.integrity);
    const listed = [];
    for await (const x of blobs.list()) listed.push(x.integrity);
    assert.deepEqual(listed.sort(), [a.integrity, b.integrity].sort());
    assert.deepEqual((await blobs.verify()).corrupt, []);
    // corrupt one blob on disk: verify names it
    writeFileSync((await blobs.path(b.integrity))!, 'WORLD');
    assert.deepEqual((await blobs.verify()).corrupt, [b.integrity]);
    await blobs.delete(a.integrity);
    assert.equal(await blobs.has(a.integrity), false);
    await assert.rejects(blobs.get(a.integrity), (e) => isWarrenError(e, 'E_NOT_FOUND'));
    await assert.rejects(blobs.get('sha256-../../etc'), (e) => isWarrenError(e, 'E_BAD_REQUEST'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('disk blobs: a read checks the bytes against their name (get and stream), and a put leaves no index behind', async () => {
  const dir = tempDir();
  try {
    const store = join(dir, 'store');
    const blobs = new DiskBlobs(store);
    const a = await blobs.put('hello');
    const b = await blobs.putStream(Readable.from([Buffer.from('big '), Buffer.from('bytes')]));
    assert.deepEqual(readdirSync(store).sort(), ['content-v2', 'tmp'], 'only the content and the temp dir');
    writeFileSync((await blobs.path(a.integrity))!, 'HELLO');
    await assert.rejects(blobs.get(a.integrity), (e) => isWarrenError(e, 'E_INTEGRITY'));
    writeFileSync((await blobs.path(b.integrity))!, 'BIG BYTES');
    await assert.rejects(async () => {
      for await (const _ of blobs.stream(b.integrity)) void _;
    }, (e) => isWarrenError(e, 'E_INTEGRITY'));
    await blobs.delete(b.integrity);
    await assert.rejects(async () => {
      for await (const _ of blobs.stream(b.integrity)) void _;
    }, (e) => isWarrenError(e, 'E_NOT_FOUND'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store written through cacache by earlier versions reads unchanged; its index is removed when the node opens', async () => {
  const dir = tempDir();
  try {
    const store = dataLayout(dir).store;
    // What cacache left: the content at its digest's place, and an index bucket under content's sibling.
    const bytes = Buffer.from('written by an earlier Warren');
    const integrity = `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
    const hex = createHash('sha256').update(bytes).digest('hex');
    mkdirSync(join(store, 'content-v2', 'sha256', hex.slice(0, 2), hex.slice(2, 4)), { recursive: true });
    writeFileSync(join(store, 'content-v2', 'sha256', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)), bytes);
    mkdirSync(join(store, 'index-v5', 'aa', 'bb'), { recursive: true });
    writeFileSync(join(store, 'index-v5', 'aa', 'bb', 'cc'), '\nabc\t{"key":"warren-blob"}');
    const node = await WarrenNode.open({ dataDir: dir, jobThreads: 1 });
    try {
      assert.equal(existsSync(join(store, 'index-v5')), false);
      assert.deepEqual(await node.ctx.ports.blobs.get(integrity), bytes);
      assert.deepEqual((await node.ctx.ports.blobs.verify()).corrupt, []);
    } finally {
      await node.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite registry: revisions, compare-and-set, prefix list, watch, durability across reopen', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'registry.db');
    let reg = new SqliteRegistry(file);
    const events: string[] = [];
    await reg.watch('component/', (e) => events.push(`${e.type}:${e.key}`));
    const r1 = await reg.compareAndSet('component/a/1.0.0', { x: 1 }, 0);
    await assert.rejects(reg.compareAndSet('component/a/1.0.0', { x: 2 }, 0), (e) => isWarrenError(e, 'E_CONFLICT'));
    const r2 = await reg.compareAndSet('component/a/1.0.0', { x: 2 }, r1);
    assert.ok(r2 > r1);
    await reg.put('component/b/1.0.0', { y: 1 });
    await reg.put('componentx', 1);
    await reg.put('worker/w1', { z: 1 });
    assert.deepEqual((await reg.list('component/')).map((e) => e.key), ['component/a/1.0.0', 'component/b/1.0.0']);
    await assert.rejects(reg.delete('component/b/1.0.0', 999), (e) => isWarrenError(e, 'E_CONFLICT'));
    await reg.delete('component/b/1.0.0');
    assert.equal(await reg.get('component/b/1.0.0'), null);
    assert.deepEqual(events, ['put:component/a/1.0.0', 'put:component/a/1.0.0', 'put:component/b/1.0.0', 'delete:component/b/1.0.0']);
    await reg.close();
    reg = new SqliteRegistry(file);
    assert.deepEqual((await reg.get('component/a/1.0.0'))?.value, { x: 2 });
    assert.equal((await reg.get('component/a/1.0.0'))?.revision, r2);
    await reg.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite registry: compareAndSetEach writes all in one transaction, or nothing when one conflicts', async () => {
  const dir = tempDir();
  try {
    const reg = new SqliteRegistry(join(dir, 'registry.db'));
    const events: string[] = [];
    await reg.watch('', (e) => events.push(`${e.type}:${e.key}`));
    const w = await reg.compareAndSet('worker/w1', { latest: null }, 0);
    await assert.rejects(
      reg.compareAndSetEach([
        { key: 'snapshot/s1', value: { id: 's1' }, expected: 0 },
        { key: 'worker/w1', value: { latest: 's1' }, expected: w + 1 },
      ]),
      (e) => isWarrenError(e, 'E_CONFLICT') && e.details.key === 'worker/w1',
    );
    assert.equal(await reg.get('snapshot/s1'), null, 'the first write was rolled back with the second');
    assert.deepEqual(events, ['put:worker/w1'], 'no event for writes that did not happen');
    const [s, w2] = await reg.compareAndSetEach([
      { key: 'snapshot/s1', value: { id: 's1' }, expected: 0 },
      { key: 'worker/w1', value: { latest: 's1' }, expected: w },
    ]);
    assert.ok(s! > w && w2! > s!);
    assert.deepEqual((await reg.get('worker/w1'))?.value, { latest: 's1' });
    assert.deepEqual(events, ['put:worker/w1', 'put:snapshot/s1', 'put:worker/w1']);
    await reg.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local bus: subject wildcards, request/reply, events', async () => {
  assert.ok(subjectMatches('warren.node.n1.>', 'warren.node.n1.worker.invoke'));
  assert.ok(!subjectMatches('warren.node.n1.>', 'warren.node.n2.worker.invoke'));
  assert.ok(subjectMatches('a.*.c', 'a.b.c'));
  assert.ok(!subjectMatches('a.*.c', 'a.b.c.d'));
  const bus = new LocalBus();
  await bus.serve('warren.node.n1.>', async (p, s) => ({ echo: p.v, subject: s }));
  assert.deepEqual(await bus.request('warren.node.n1.x', { v: 3 }), { echo: 3, subject: 'warren.node.n1.x' });
  await assert.rejects(bus.request('warren.node.n2.x', {}), (e) => isWarrenError(e, 'E_UNAVAILABLE'));
  const got: unknown[] = [];
  await bus.subscribe('events.>', (p) => got.push(p));
  await bus.publish('events.worker', { id: 1 });
  assert.deepEqual(got, [{ id: 1 }]);
});

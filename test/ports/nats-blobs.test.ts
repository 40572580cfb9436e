import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { statSync, utimesSync } from 'node:fs';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isWarrenError } from '../../src/errors.js';
import { DiskBlobs, contentPath } from '../../src/ports/embedded/disk-blobs.js';
import { NatsBlobs } from '../../src/ports/nats/nats-blobs.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';

const tmp = makeTempDir('warren-nats-blobs-');
let server: NatsServerHandle;
let nc: NatsConnection;

before(async () => {
  server = await startNatsServer({ jetstream: true, storeDir: join(tmp.path, 'server') });
  nc = await connect({ servers: server.url });
});

after(async () => {
  await nc?.close();
  await server?.stop();
  tmp.dispose();
});

/** A node: its own empty local store, sharing the bucket. */
async function node(name: string, bucket: string): Promise<NatsBlobs> {
  return NatsBlobs.open(jetstream(nc), new DiskBlobs(join(tmp.path, name, 'store')), { replicas: 1, bucket });
}

function sri(bytes: Buffer | string): string {
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('nats blobs: put on one node, read through on another (get, stream, path), list, verify, delete', async () => {
  const n1 = await node('n1', 'blobs_basic');
  const n2 = await node('n2', 'blobs_basic');
  const a = await n1.put('hello');
  assert.equal(a.integrity, sri('hello'));
  assert.equal(a.size, 5);
  assert.ok(a.time > 0);
  assert.equal((await n1.put('hello')).integrity, a.integrity, 'same bytes, same name');
  // bigger than one object-store chunk (128 KiB), with + / = in its integrity likely
  const bigBytes = randomBytes(300 * 1024 + 7);
  const big = await n1.putStream(Readable.from([bigBytes.subarray(0, 1000), bigBytes.subarray(1000)]));
  assert.equal(big.integrity, sri(bigBytes));
  assert.equal(big.size, bigBytes.length);

  assert.equal(await n2.local.has(a.integrity), false, 'n2 starts empty');
  assert.ok(await n2.has(a.integrity), 'has speaks for the cluster store');
  assert.deepEqual(await n2.info(big.integrity).then((i) => i && { size: i.size, integrity: i.integrity }), { size: bigBytes.length, integrity: big.integrity });
  assert.equal((await n2.get(a.integrity)).toString(), 'hello');
  assert.ok(await n2.local.has(a.integrity), 'get cached it locally');
  assert.ok((await readAll(n2.stream(big.integrity))).equals(bigBytes), 'stream through a miss');
  const n3 = await node('n3', 'blobs_basic');
  const p = await n3.path(big.integrity);
  assert.equal(p, contentPath(n3.local.dir, big.integrity), 'path is a file of the local store');
  assert.equal(statSync(p!).size, bigBytes.length);

  const listed: string[] = [];
  for await (const b of n3.list()) listed.push(b.integrity);
  assert.deepEqual(listed.sort(), [a.integrity, big.integrity].sort());
  assert.deepEqual(await n3.verify(), { checked: 2, corrupt: [] });

  await n1.delete(a.integrity);
  assert.equal(await n2.has(a.integrity), false);
  assert.equal(await n1.local.has(a.integrity), false);
  assert.equal(await n2.info(a.integrity), null);
  assert.equal(await n3.path(a.integrity), null);
  await assert.rejects(n3.get(a.integrity), (e) => isWarrenError(e, 'E_NOT_FOUND'));
  await assert.rejects(readAll(n3.stream(a.integrity)), (e) => isWarrenError(e, 'E_NOT_FOUND'));
  await assert.rejects(n3.get('sha256-../../etc'), (e) => isWarrenError(e, 'E_BAD_REQUEST'));
  // n2 still holds its cached copy: delete only clears the deleting node and the cluster store
  const after: string[] = [];
  for await (const b of n3.list()) after.push(b.integrity);
  assert.deepEqual(after, [big.integrity]);
});

test('nats blobs: re-putting existing bytes restarts the GC grace time without re-uploading', async () => {
  const n1 = await node('t1', 'blobs_touch');
  const first = await n1.put('same bytes');
  const os = await new Objm(nc).open('blobs_touch');
  const nuid = (await os.info(first.integrity))?.nuid;
  assert.ok(nuid);
  await sleep(30);
  const second = await node('t2', 'blobs_touch').then((n2) => n2.put('same bytes'));
  assert.equal(second.integrity, first.integrity);
  assert.ok(second.time > first.time, `time moved forward (${first.time} → ${second.time})`);
  assert.equal((await n1.info(first.integrity))?.time, second.time);
  assert.equal((await os.info(first.integrity))?.nuid, nuid, 'same chunks: not uploaded again');
  assert.deepEqual(await n1.verify(), { checked: 1, corrupt: [] }, 'the touched object still reads');
});

test('nats blobs: verify names an object whose bytes do not match its name; fetching it fails with E_INTEGRITY', async () => {
  const n1 = await node('v1', 'blobs_verify');
  const good = await n1.put('good');
  // a corrupt object: the bytes "WORLD" stored under the name of "world"
  const os = await new Objm(nc).open('blobs_verify');
  await os.putBlob({ name: sri('world') }, Buffer.from('WORLD'));
  const r = await n1.verify();
  assert.equal(r.checked, 2);
  assert.deepEqual(r.corrupt, [sri('world')]);
  const n2 = await node('v2', 'blobs_verify');
  await assert.rejects(n2.get(sri('world')), (e) => isWarrenError(e, 'E_INTEGRITY'));
  assert.equal(await n2.local.has(sri('world')), false, 'nothing cached under the wrong name');
  assert.equal((await n2.get(good.integrity)).toString(), 'good');
});

test('nats blobs: prefetch fetches what the node lacks; evictLocal frees LRU blobs outside keep, down to the budget', async () => {
  const n1 = await node('p1', 'blobs_prefetch');
  const blobs = [];
  for (let i = 0; i < 5; i++) blobs.push(await n1.put(Buffer.alloc(1000, i)));
  const onlyLocal = await n1.local.put(Buffer.alloc(1000, 99)); // never uploaded: the only copy
  const n2 = await node('p2', 'blobs_prefetch');
  await n2.get(blobs[0]!.integrity);
  const all = blobs.map((b) => b.integrity);
  assert.deepEqual(await n2.prefetch([...all, all[1]!], { concurrency: 2 }), { fetched: 4, bytes: 4000 });
  assert.deepEqual(await n2.prefetch(all, { concurrency: 2 }), { fetched: 0, bytes: 0 });
  for (const i of all) assert.ok(await n2.local.has(i));
  await assert.rejects(n2.prefetch([...all, sri('nowhere')]), (e) => isWarrenError(e, 'E_NOT_FOUND') && (e.details.missing as string[])[0] === sri('nowhere'));

  // make ages explicit: blob i last used at t0 + i minutes (n1's onlyLocal oldest of all)
  const t0 = Date.now() / 1000 - 3600;
  for (const [i, b] of blobs.entries()) utimesSync(contentPath(n1.local.dir, b.integrity), t0 + i * 60, t0 + i * 60);
  utimesSync(contentPath(n1.local.dir, onlyLocal.integrity), t0 - 600, t0 - 600);
  const fresh = await node('p1', 'blobs_prefetch'); // no in-process use stamps
  // 6000 bytes held, budget 3500: keep blob 0; evict the oldest replicated ones (1, 2, 3); never onlyLocal
  const r = await fresh.evictLocal({ keep: new Set([all[0]!]), budgetBytes: 3500 });
  assert.deepEqual(r, { evicted: 3, bytesFreed: 3000, localBytes: 3000, skippedUnreplicated: 1 });
  const left = [];
  for await (const b of fresh.local.list()) left.push(b.integrity);
  assert.deepEqual(left.sort(), [all[0]!, all[4]!, onlyLocal.integrity].sort());
  assert.deepEqual(await fresh.evictLocal({ keep: new Set(), budgetBytes: 10_000 }), { evicted: 0, bytesFreed: 0, localBytes: 3000, skippedUnreplicated: 0 });
  assert.ok(await fresh.has(all[1]!), 'eviction is local only');
});

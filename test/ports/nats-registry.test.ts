import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { isWarrenError } from '../../src/errors.js';
import { NatsRegistry } from '../../src/ports/nats/nats-registry.js';
import { decodeRegistryKey, encodeRegistryKey, prefixFilter } from '../../src/ports/nats/registry-key-codec.js';
import type { RegistryEvent } from '../../src/ports/registry.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';

const tmp = makeTempDir('warren-nats-registry-');
let server: NatsServerHandle;
let nc: NatsConnection;

before(async () => {
  server = await startNatsServer({ jetstream: true, storeDir: tmp.path });
  nc = await connect({ servers: server.url });
});

after(async () => {
  await nc?.close();
  await server?.stop();
  tmp.dispose();
});

async function freshRegistry(bucket: string): Promise<NatsRegistry> {
  return NatsRegistry.open(jetstream(nc), { replicas: 1, bucket });
}

/** Polls `check` until it holds; the deadline (minutes) only guards against a hang, time is not what is tested. */
async function until(check: () => boolean, what: string, ms = 5 * 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('key codec: reversible, valid KV keys, prefix filters on whole segments', () => {
  const keys = ['component/sh.serval.loudify/1.2.0', 'precompile/node-20:v8-11/x/1.0.0-rc.1', 'a//b', '/lead', 'trail/', '', 'é ü/=3D/*/>', 'worker/w-1_x'];
  for (const k of keys) {
    const enc = encodeRegistryKey(k);
    assert.match(enc, /^[-/_=.a-zA-Z0-9]+$/, `valid KV key for ${JSON.stringify(k)}: ${enc}`);
    assert.ok(!enc.startsWith('.') && !enc.endsWith('.') && !enc.includes('..'), enc);
    assert.equal(decodeRegistryKey(enc), k);
  }
  assert.equal(encodeRegistryKey('component/sh.serval.loudify/1.2.0'), 'component.sh=2Eserval=2Eloudify.1=2E2=2E0');
  assert.equal(prefixFilter('component/'), 'component.>');
  assert.equal(prefixFilter('component/sh.ser'), 'component.>');
  assert.equal(prefixFilter('component/sh.serval.loudify/'), 'component.sh=2Eserval=2Eloudify.>');
  assert.equal(prefixFilter('comp'), '>');
  assert.equal(prefixFilter(''), '>');
});

test('nats registry: compareAndSetEach writes in order and stops at the first conflict (no multi-key transaction)', async () => {
  const reg = await freshRegistry('reg_each');
  const w = await reg.compareAndSet('worker/w1', { latest: null }, 0);
  await assert.rejects(
    reg.compareAndSetEach([
      { key: 'snapshot/s1', value: { id: 's1' }, expected: 0 },
      { key: 'worker/w1', value: { latest: 's1' }, expected: w + 1 },
      { key: 'snapshot/s2', value: { id: 's2' }, expected: 0 },
    ]),
    (e) => isWarrenError(e, 'E_CONFLICT') && e.details.key === 'worker/w1',
  );
  assert.deepEqual((await reg.get('snapshot/s1'))?.value, { id: 's1' }, 'the write before the conflict stays');
  assert.equal(await reg.get('snapshot/s2'), null, 'writes after the conflict are not made');
  const [w2] = await reg.compareAndSetEach([{ key: 'worker/w1', value: { latest: 's1' }, expected: w }]);
  assert.deepEqual(await reg.get('worker/w1'), { key: 'worker/w1', value: { latest: 's1' }, revision: w2 });
});

test('nats registry: revisions, compare-and-set, prefix list, delete, watch', async () => {
  const reg = await freshRegistry('reg_basic');
  const events: string[] = [];
  const unwatch = await reg.watch('component/', (e: RegistryEvent) => events.push(`${e.type}:${e.key}`));
  const k = 'component/sh.serval.loudify/1.2.0';
  const r1 = await reg.compareAndSet(k, { x: 1 }, 0);
  await assert.rejects(reg.compareAndSet(k, { x: 2 }, 0), (e) => isWarrenError(e, 'E_CONFLICT'));
  await assert.rejects(reg.compareAndSet(k, { x: 2 }, r1 + 100), (e) => isWarrenError(e, 'E_CONFLICT') && e.details.current === r1);
  const r2 = await reg.compareAndSet(k, { x: 2 }, r1);
  assert.ok(r2 > r1);
  assert.deepEqual(await reg.get(k), { key: k, value: { x: 2 }, revision: r2 });
  await reg.put('component/sh.serval.b-c/1.0.0:rc', { y: 1 });
  await reg.put('componentx', 1);
  await reg.put('component', 2);
  await reg.put('worker/w1', { z: 1 });
  assert.deepEqual(
    (await reg.list('component/')).map((e) => e.key),
    ['component/sh.serval.b-c/1.0.0:rc', 'component/sh.serval.loudify/1.2.0'],
  );
  assert.deepEqual((await reg.list('component/sh.serval.l')).map((e) => e.key), [k], 'prefix ending inside a segment');
  assert.deepEqual((await reg.list('comp')).map((e) => e.key).sort(), ['component', 'component/sh.serval.b-c/1.0.0:rc', k, 'componentx'].sort());
  assert.deepEqual((await reg.list('worker/')).map((e) => e.value), [{ z: 1 }]);
  assert.equal(await reg.get('missing/key'), null);

  await assert.rejects(reg.delete('component/sh.serval.b-c/1.0.0:rc', 999_999), (e) => isWarrenError(e, 'E_CONFLICT'));
  await reg.delete('component/sh.serval.b-c/1.0.0:rc');
  await reg.delete('component/never-was'); // missing keys are fine and emit nothing
  assert.equal(await reg.get('component/sh.serval.b-c/1.0.0:rc'), null);
  assert.deepEqual((await reg.list('component/')).map((e) => e.key), [k]);
  // conditional delete at the right revision, then the key can be created again from 0
  await reg.delete(k, r2);
  assert.equal(await reg.get(k), null);
  const r3 = await reg.compareAndSet(k, { x: 3 }, 0);
  assert.ok(r3 > r2);
  await assert.rejects(reg.compareAndSet(k, { x: 4 }, 0), (e) => isWarrenError(e, 'E_CONFLICT'));

  const expected = [
    `put:${k}`,
    `put:${k}`,
    'put:component/sh.serval.b-c/1.0.0:rc',
    'delete:component/sh.serval.b-c/1.0.0:rc',
    `delete:${k}`,
    `put:${k}`,
  ];
  await until(() => events.length >= expected.length, 'watch events');
  assert.deepEqual(events, expected);
  unwatch();
  // A marker instead of a pause: a watch still open on the same connection sees the put after
  // the unwatch and then a marker, in stream order. Once the marker is in, the put has been
  // delivered to this connection, and the stopped watch has not reported it. (Its consumer, had
  // it not stopped, delivers in the same stream order, though not in lockstep with another.)
  const later: string[] = [];
  const unwatchLater = await reg.watch('component/', (e: RegistryEvent) => later.push(`${e.type}:${e.key}`));
  await reg.put(k, { after: 'unwatch' });
  await reg.put('component/marker', { marker: true });
  await until(() => later.includes('put:component/marker'), 'the marker');
  assert.deepEqual(later, [`put:${k}`, 'put:component/marker'], 'the open watch got both, in order');
  assert.equal(events.length, expected.length, 'no events after unwatch');
  unwatchLater();
  await reg.close();
});

test('nats registry: values survive a new connection; two writers racing on one revision, one wins', async () => {
  const a = await freshRegistry('reg_race');
  const nc2 = await connect({ servers: server.url });
  try {
    const b = await NatsRegistry.open(jetstream(nc2), { replicas: 1, bucket: 'reg_race' });
    const r1 = await a.put('worker/w:1', { state: 'running' });
    assert.deepEqual((await b.get('worker/w:1'))?.value, { state: 'running' });
    const results = await Promise.allSettled([
      a.compareAndSet('worker/w:1', { state: 'paused', by: 'a' }, r1),
      b.compareAndSet('worker/w:1', { state: 'paused', by: 'b' }, r1),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(isWarrenError(rejected.reason, 'E_CONFLICT'));
  } finally {
    await nc2.close();
  }
});

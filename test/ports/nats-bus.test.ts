import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { WarrenError, isWarrenError } from '../../src/errors.js';
import { NatsBus } from '../../src/ports/nats/nats-bus.js';
import type { BusPayload } from '../../src/ports/bus.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';

const tmp = makeTempDir('warren-nats-bus-');
let server: NatsServerHandle;
const conns: NatsConnection[] = [];

before(async () => {
  server = await startNatsServer({ jetstream: false, storeDir: join(tmp.path, 'server') });
});

after(async () => {
  for (const c of conns) await c.close();
  await server?.stop();
  tmp.dispose();
});

/** Polls `check` until it holds; the deadline (minutes) only guards against a hang, time is not what is tested. */
async function until(check: () => boolean, what: string, ms = 5 * 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Each bus on its own connection, as on separate nodes. */
async function bus(): Promise<NatsBus> {
  const nc = await connect({ servers: server.url });
  conns.push(nc);
  return new NatsBus(nc);
}

test('nats bus: request/reply across connections, wildcards, binary bodies', async () => {
  const server1 = await bus();
  const client = await bus();
  await server1.serve('warren.node.n1.>', async (p, s) => ({ echo: p.v, subject: s, body: p.body }));
  const reply = await client.request('warren.node.n1.worker.invoke', { v: 3, body: Buffer.from([0, 1, 2, 255]) });
  assert.equal(reply.echo, 3);
  assert.equal(reply.subject, 'warren.node.n1.worker.invoke');
  assert.ok(Buffer.isBuffer(reply.body) && (reply.body as Buffer).equals(Buffer.from([0, 1, 2, 255])), 'binary round trip as Buffer');
  await assert.rejects(client.request('warren.node.n2.x', {}), (e) => isWarrenError(e, 'E_UNAVAILABLE') && /no responder/.test(e.message));
});

test('nats bus: a queue group answers each request exactly once', async () => {
  const a = await bus();
  const b = await bus();
  const client = await bus();
  const handled = { a: 0, b: 0 };
  await a.serve('warren.jobs.run', async () => ({ by: 'a', n: ++handled.a }), { queue: 'jobs' });
  await b.serve('warren.jobs.run', async () => ({ by: 'b', n: ++handled.b }), { queue: 'jobs' });
  const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => client.request('warren.jobs.run', { i })));
  assert.equal(replies.length, 40);
  assert.equal(handled.a + handled.b, 40, 'each request handled once');
  assert.ok(handled.a > 0 && handled.b > 0, `both members served (a=${handled.a}, b=${handled.b})`);
});

test('nats bus: handler errors come back as WarrenError; timeouts are E_UNAVAILABLE; oversize payloads are refused', async () => {
  const s = await bus();
  const client = await bus();
  await s.serve('svc.fail', async () => {
    throw new WarrenError('E_NOT_FOUND', 'no such worker', { id: 'w1' });
  });
  await s.serve('svc.crash', async () => {
    throw new TypeError('boom');
  });
  // Never replies: the request can only end by its timeout, however fast or slow the machine.
  await s.serve('svc.slow', () => new Promise<never>(() => undefined));
  await s.serve('svc.huge-reply', async () => ({ blob: 'x'.repeat(2 * 1024 * 1024) }));
  await assert.rejects(client.request('svc.fail', {}), (e) => isWarrenError(e, 'E_NOT_FOUND') && e.message === 'no such worker' && e.details.id === 'w1');
  await assert.rejects(client.request('svc.crash', {}), (e) => isWarrenError(e, 'E_INTERNAL') && /boom/.test(e.message));
  await assert.rejects(client.request('svc.slow', {}, { timeoutMs: 100 }), (e) => isWarrenError(e, 'E_UNAVAILABLE') && /no reply in time/.test(e.message));
  await assert.rejects(client.request('svc.huge-reply', {}), (e) => isWarrenError(e, 'E_BAD_REQUEST') && /max_payload/.test(e.message));
  await assert.rejects(client.request('svc.fail', { big: Buffer.alloc(900 * 1024) }), (e) => isWarrenError(e, 'E_BAD_REQUEST') && /max_payload/.test(e.message));
  await assert.rejects(client.publish('events.x', { big: 'y'.repeat(1024 * 1024) }), (e) => isWarrenError(e, 'E_BAD_REQUEST'));
});

test('nats bus: publish/subscribe with wildcards; unsubscribe stops delivery', async () => {
  const sub = await bus();
  const pub = await bus();
  const got: [BusPayload, string][] = [];
  const off = await sub.subscribe('events.>', (p, s) => got.push([p, s]));
  await pub.publish('events.worker', { id: 1 });
  await pub.publish('other.worker', { id: 2 });
  await pub.publish('events.job.done', { id: 3 });
  await until(() => got.length >= 2, 'two events');
  assert.deepEqual(got, [
    [{ id: 1 }, 'events.worker'],
    [{ id: 3 }, 'events.job.done'],
  ]);
  off();
  // A marker on a subscription still open on the same connection. Its subscribe flushes, so the
  // server has the unsubscribe before anything below is published; pub's messages reach the
  // server, and sub's connection, in the order they were published: once the marker is seen,
  // event 4 would have been delivered already had the unsubscribe not stopped it.
  const seen: BusPayload[] = [];
  await sub.subscribe('events.>', (p) => seen.push(p));
  await pub.publish('events.worker', { id: 4 });
  await pub.publish('events.marker', { marker: true });
  await until(() => seen.some((p) => p.marker === true), 'the marker');
  assert.deepEqual(seen, [{ id: 4 }, { marker: true }], 'the open subscription got both, in order');
  assert.equal(got.length, 2, 'nothing after unsubscribe');
  await sub.close();
});

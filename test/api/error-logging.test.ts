import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildApp } from '../../src/api/build-app.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { makeTempDir } from '../support/temp-dir.js';

/** A 5xx is logged through the node's logger, with its request id, even outside --dev. */
test('a 500 is logged with its error, code and request id; a 4xx is not logged as an error', async () => {
  const data = makeTempDir('warren-errlog-');
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const node = await WarrenNode.open({ dataDir: data.path, jobThreads: 1, logger: pino({ level: 'info' }, sink) });
  const app = await buildApp({
    node,
    logger: false,
    plugins: [
      async (a) => {
        a.get('/boom', { config: { role: 'public' } }, async () => {
          throw new Error('the disk caught fire');
        });
      },
    ],
  });
  try {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 'E_INTERNAL');
    const bad = await app.inject({ method: 'GET', url: '/v1/components', headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.statusCode, 401);
    const errors = lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.equal(errors[0]!.msg, 'request failed');
    assert.equal(errors[0]!.code, 'E_INTERNAL');
    assert.equal(errors[0]!.url, '/boom');
    assert.ok(errors[0]!.reqId, 'the request id');
    assert.match(JSON.stringify(errors[0]!.err), /the disk caught fire/);
  } finally {
    await app.close();
    await node.close();
    data.dispose();
  }
});

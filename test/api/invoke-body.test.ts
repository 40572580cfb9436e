import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { call, createWorker, failure, pushTestComponent } from '../workers/worker-fixtures.js';

test("an invoke's JSON body is checked by its documented schema: a wrong shape is 400 E_BAD_REQUEST naming export; args are the service's", async () => {
  const work = makeTempDir('warren-invoke-body-');
  const s = await startTestServer();
  try {
    const c = s.client;
    await pushTestComponent(c, work.path, 'body', 'app', '1.0.0', { files: { 'state/count.txt': '' }, modes: { '/state/count.txt': 'read-write' } });
    const w = await createWorker(c, 'body.app', 'w');
    const post = (body: string) => failure(c.raw('POST', `/v1/workers/${w.id}/invoke`, body, { 'content-type': 'application/json' }));
    for (const body of ['{"args":[1]}', '{"export":""}', `{"export":"${'x'.repeat(257)}"}`, '{"function":{}}', '[]', '"increment"', 'null']) {
      const f = await post(body);
      assert.deepEqual([f.status, f.code], [400, 'E_BAD_REQUEST'], body);
      assert.match(f.message, /invoke body needs "export"/, body);
    }
    const notJson = await post('{export');
    assert.deepEqual([notJson.code, /not valid JSON/.test(notJson.message)], ['E_BAD_REQUEST', true]);
    assert.equal((await post('{"export":"increment","args":5}')).code, 'E_BAD_ARGS', 'args are checked against the signature by the service');
    assert.equal(await call(c, w.id, 'increment'), 1);
    const doc = (await c.json<{ paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { anyOf: unknown[] } }> } } }> }>('GET', '/openapi.json')).paths['/v1/workers/{id}/invoke']!;
    assert.equal(doc.post.requestBody.content['application/json']!.schema.anyOf.length, 2, 'the schema that checks is the one documented');
  } finally {
    await s.close();
    work.dispose();
  }
});

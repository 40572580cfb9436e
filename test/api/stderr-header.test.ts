import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAll } from '../../src/cli/api-client.js';
import { headerText } from '../../src/api/routes/job-routes.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { pushTestComponent } from '../workers/worker-fixtures.js';

const CAP = 8 * 1024;

test('x-warren-stderr stays within 8 KiB encoded for ASCII, accents, CJK and emoji, cut on a character', () => {
  for (const unit of ['a', 'é', '漢', '😀', 'a漢😀é%']) {
    const text = unit.repeat(9000);
    const h = headerText([Buffer.from(text)]);
    assert.ok(h.length <= CAP, `${unit}: ${h.length} characters`);
    const back = decodeURIComponent(h);
    assert.ok(text.startsWith(back), `${unit}: a prefix of what the guest wrote`);
    assert.ok(back.length > 0);
  }
  assert.equal(headerText([Buffer.from('short 漢')]), encodeURIComponent('short 漢'));
});

test('a job writing 9 KiB of CJK to stderr: the response is readable by undici and its stderr header a prefix', async () => {
  const work = makeTempDir('warren-stderr-');
  const server = await startTestServer();
  try {
    await pushTestComponent(server.client, work.path, 'sh.stderr', 'echo', '1.0.0', { wasm: 'stderr_echo.wasm' });
    const text = '漢字'.repeat(1536);
    const res = await server.client.raw('POST', '/v1/jobs/sh.stderr.echo/run', Buffer.from(text), { 'content-type': 'application/octet-stream' });
    await readAll(res.body);
    const t = res.trailers();
    const stderr = decodeURIComponent(String(t['x-warren-stderr'] ?? res.headers['x-warren-stderr'] ?? ''));
    assert.ok(stderr.length >= 900 && text.startsWith(stderr), `got ${stderr.length} characters`);
  } finally {
    await server.close();
    work.dispose();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/cli/api-client.js';
import { multipartBody } from '../../src/cli/multipart-upload.js';
import { makeTempDir } from '../support/temp-dir.js';

test('multipart upload: exact Content-Length, progress to the end, filenames escaped so a quote or CRLF cannot forge a header', async () => {
  const tmp = makeTempDir('warren-multipart-');
  try {
    const file = join(tmp.path, 'module.wasm');
    const bytes = Buffer.alloc(300_000, 7);
    writeFileSync(file, bytes);
    const hostile = 'm"; name="manifest\r\ncontent-type: text/evil\r\n.wasm';
    const progress: number[] = [];
    const { body, headers, total } = await multipartBody(
      [
        { name: 'note', text: 'héllo' },
        { name: 'module', file, filename: hostile, contentType: 'application/wasm' },
      ],
      (sent, all) => {
        assert.equal(all, total);
        progress.push(sent);
      },
    );
    const sent = await readAll(body);
    assert.equal(sent.length, total);
    assert.equal(headers['content-length'], String(total));
    assert.equal(progress.at(-1), total, 'progress reaches the total');

    // Parsed back by a real multipart parser: two parts, the file's name as given, its bytes whole.
    const form = await new Response(new Uint8Array(sent), { headers: { 'content-type': headers['content-type']! } }).formData();
    assert.deepEqual([...form.keys()], ['note', 'module']);
    assert.equal(form.get('note'), 'héllo');
    const part = form.get('module') as File;
    assert.equal(part.type, 'application/wasm');
    assert.equal(part.name, hostile, 'the filename comes back as given (it was escaped, not cut)');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes);
  } finally {
    tmp.dispose();
  }
});

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../../src/cli/api-client.js';
import { readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import { fixturePath } from '../support/temp-dir.js';

/**
 * Pushes a component binary (a fixture name under fixtures/build, or bytes) with a minimal
 * manifest over HTTP; returns the status and the JSON body, error or record.
 */
export async function pushComponentWasm(
  client: ApiClient,
  _workDir: string,
  ns: string,
  name: string,
  wasm: string | Buffer,
  extraManifest = '',
): Promise<{ status: number; body: unknown }> {
  const manifest = [`name = "${name}"`, `namespace = "${ns}"`, 'version = "1.0.0"', 'binary = "main.wasm"', extraManifest, '[limits]', 'memory = "512MiB"', 'timeout = "10m"', ''].join('\n');
  const bytes = typeof wasm === 'string' ? readFileSync(fixturePath(wasm)) : wasm;
  const boundary = `----wc${randomBytes(8).toString('hex')}`;
  const part = (field: string, body: Buffer, filename?: string) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${field}"${filename ? `; filename="${filename}"\r\ncontent-type: application/octet-stream` : ''}\r\n\r\n`),
      body,
      Buffer.from('\r\n'),
    ]);
  const body = Buffer.concat([part('manifest', Buffer.from(manifest)), part('module', bytes, 'main.wasm'), Buffer.from(`--${boundary}--\r\n`)]);
  try {
    const res = await client.raw('POST', '/v1/components', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    return { status: res.status, body: JSON.parse((await readAll(res.body)).toString('utf8')) };
  } catch (err) {
    if (!isWarrenError(err)) throw err;
    const { status, ...details } = err.details;
    return { status: Number(status), body: { error: { code: err.code, message: err.message, details } } };
  }
}

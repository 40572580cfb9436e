import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildApp } from '../../src/api/build-app.js';
import wabtInit from 'wabt';
import { MountTableBuilder, WasiHost } from '../../src/wasi/index.js';
import { WASI_PREVIEW1_FUNCTIONS } from '../../src/precompile/check-linkable.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { fixturePath } from '../support/temp-dir.js';
import { writeRawZip } from '../manifest/support/write-raw-zip.js';

/**
 * Issue 21 point 7: bad input gets a 4xx with a stable code in Warren's error shape, never a
 * 500, and no error body names a host path. Every body this file receives is kept and scanned.
 */
let server: TestServer;
const bodies: string[] = [];
const MODULE = readFileSync(fixturePath('job_loop.wasm'));

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

async function wat(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('t.wat', text);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return buffer;
}

async function send(path: string, init: RequestInit): Promise<{ status: number; body: { error?: { code: string; message: string; details: Record<string, unknown> } } & Record<string, unknown> }> {
  const res = await fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${server.adminToken}`, ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const manifest = (name: string, extra = '') => `name = "${name}"\nnamespace = "sh.bad"\nversion = "1.0.0"\nbinary = "m.wasm"\n${extra}`;

function form(parts: [string, string | Uint8Array, string?][]): FormData {
  const f = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename === undefined && typeof value === 'string') f.append(name, value);
    else f.append(name, new Blob([value as Uint8Array<ArrayBuffer>]), filename ?? name);
  }
  return f;
}

const push = (f: FormData) => send('/v1/components', { method: 'POST', body: f });

function assertError(res: { status: number; body: { error?: { code: string } } }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code, JSON.stringify(res.body));
}

test('a multipart body with no boundary, a wrong one, or cut short is 400 E_BAD_REQUEST, not 500', async () => {
  for (const contentType of ['multipart/form-data', 'multipart/form-data; boundary=zz']) {
    const res = await send('/v1/components', { method: 'POST', headers: { 'content-type': contentType }, body: 'not a multipart body' });
    assertError(res, 400, 'E_BAD_REQUEST');
  }
  const cut = '--b\r\ncontent-disposition: form-data; name="manifest"\r\n\r\nname = "x"';
  assertError(await send('/v1/components', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: cut }), 400, 'E_BAD_REQUEST');
});

test('a module importing what Warren cannot provide is refused at push with a code naming the import', async () => {
  const evil = await wat('(module (import "evil" "boom" (func)) (memory (export "memory") 1) (func (export "_start") (call 0)))');
  const res = await push(form([['manifest', manifest('evil')], ['module', evil, 'm.wasm']]));
  assertError(res, 400, 'E_IMPORT_UNKNOWN');
  assert.match(res.body.error!.message, /evil\.boom/);
  assert.deepEqual(res.body.error!.details.imports, [{ import: 'evil.boom', kind: 'function' }]);
  const wasiTypo = await wat('(module (import "wasi_snapshot_preview1" "fd_wirte" (func)) (memory (export "memory") 1) (func (export "_start")))');
  const typo = await push(form([['manifest', manifest('typo')], ['module', wasiTypo, 'm.wasm']]));
  assertError(typo, 400, 'E_IMPORT_UNKNOWN');
  assert.match(typo.body.error!.message, /wasi_snapshot_preview1\.fd_wirte/);
  const envMemory = await wat('(module (import "env" "memory" (memory 1)) (func (export "_start")))');
  const imported = await push(form([['manifest', manifest('envmem')], ['module', envMemory, 'm.wasm']]));
  assertError(imported, 400, 'E_IMPORT_UNKNOWN');
  assert.match(imported.body.error!.message, /env\.memory \(memory\)/);
  // Nothing was stored: the job is 404, not a 500 at run time.
  assertError(await send('/v1/jobs/sh.bad.evil/run', { method: 'POST', body: '' }), 404, 'E_NOT_FOUND');
});

test('a module with no linear memory is refused at push; one using WASI is accepted', async () => {
  const noMemory = await wat('(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start") (call 0 (i32.const 3))))');
  const res = await push(form([['manifest', manifest('nomem')], ['module', noMemory, 'm.wasm']]));
  assertError(res, 400, 'E_WASM_INVALID');
  assert.equal(res.body.error!.details.rule, 'needs-memory');
  const fine = await wat('(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory 1) (func (export "_start") (call 0 (i32.const 3))))');
  assert.equal((await push(form([['manifest', manifest('fine')], ['module', fine, 'm.wasm']]))).status, 201);
  const run = await send('/v1/jobs/sh.bad.fine/run?format=json', { method: 'POST', body: '' });
  assert.equal(run.status, 200, JSON.stringify(run.body));
  assert.equal(run.body.exitCode, 3);
});

test("the push check's WASI list is exactly what the WASI host provides", () => {
  const host = new WasiHost({ args: [], env: {}, mounts: new MountTableBuilder().build() });
  assert.deepEqual([...WASI_PREVIEW1_FUNCTIONS].sort(), Object.keys(host.imports.wasi_snapshot_preview1!).sort());
  host.close();
});

test('a zip entry name over 255 bytes is refused at push (it made worker create fail with ENAMETOOLONG and host paths)', async () => {
  const files = '\n[[files]]\nsource = "./static"\ntarget = "/static"\n';
  const long = 'static/' + 'n'.repeat(300);
  const zip = writeRawZip([{ name: long, data: Buffer.from('x') }]);
  const res = await push(form([['manifest', manifest('longname', files)], ['module', MODULE, 'm.wasm'], ['files', zip, 'files.zip']]));
  assertError(res, 400, 'E_ZIP_UNSAFE');
  assert.equal(res.body.error!.details.rule, 'name-length');
  // The same rule for a manifest's own targets.
  const target = await push(form([['manifest', manifest('longtarget', `\n[[files]]\nsource = "./s"\ntarget = "/${'t'.repeat(256)}"\n`)], ['module', MODULE, 'm.wasm']]));
  assertError(target, 400, 'E_MANIFEST_INVALID');
  // 255 bytes is still a name (multi-byte characters counted in bytes: 85 × 3).
  const ok = writeRawZip([{ name: 'static/' + '€'.repeat(85), data: Buffer.from('x'), utf8: true }]);
  assert.equal((await push(form([['manifest', manifest('okname', files)], ['module', MODULE, 'm.wasm'], ['files', ok, 'files.zip']]))).status, 201);
  const worker = await send('/v1/workers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ component: 'sh.bad.okname', name: 'ok' }) });
  assert.equal(worker.status, 201, JSON.stringify(worker.body));
});

test('headers over the limit are 431 in Warren\'s error shape', async () => {
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(server.url + '/healthz', { headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject).end();
  });
  bodies.push(text);
  assert.equal(status, 431);
  assert.equal(JSON.parse(text).error.code, 'E_HEADERS_TOO_LARGE');
});

test('a timeout past what a timer can wait is refused, in the manifest and in the query', async () => {
  const res = await push(form([['manifest', manifest('forever', '[limits]\ntimeout = "2562047h"\n')], ['module', MODULE, 'm.wasm']]));
  assertError(res, 400, 'E_MANIFEST_INVALID');
  assert.match(res.body.error!.message, /at most 24d/);
  assert.equal((await push(form([['manifest', manifest('job')], ['module', MODULE, 'm.wasm']]))).status, 201);
  const run = await send('/v1/jobs/sh.bad.job/run?timeout=2562047h', { method: 'POST', body: '' });
  assertError(run, 400, 'E_BAD_REQUEST');
  assert.match(run.body.error!.message, /^timeout: must be at most 24d/);
});

test('the manifest as a file part (curl -F manifest=@warren.toml) is accepted beside module and files; a fourth part is 400, not 413 E_ZIP_TOO_LARGE', async () => {
  const files = '\n[[files]]\nsource = "./static"\ntarget = "/static"\n';
  const zip = writeRawZip([{ name: 'static/a.txt', data: Buffer.from('a') }]);
  const asFile = await push(form([['manifest', manifest('asfile', files), 'warren.toml'], ['module', MODULE, 'm.wasm'], ['files', zip, 'files.zip']]));
  assert.equal(asFile.status, 201, JSON.stringify(asFile.body));
  const four = await push(form([['manifest', manifest('four', files), 'warren.toml'], ['module', MODULE, 'm.wasm'], ['files', zip, 'files.zip'], ['extra', zip, 'x.zip']]));
  assertError(four, 400, 'E_BAD_REQUEST');
  assert.equal(four.body.error!.details.rule, 'max-parts');
});

test('no error body names a host path (data dir, temp dir, home, working dir)', async () => {
  // A path too deep for the host even though each name is short: placement meets ENAMETOOLONG.
  const deep = 'static/' + Array.from({ length: 1300 }, () => 'ab').join('/') + '/f';
  const files = '\n[[files]]\nsource = "./static"\ntarget = "/static"\n';
  const pushed = await push(form([['manifest', manifest('deep', files)], ['module', MODULE, 'm.wasm'], ['files', writeRawZip([{ name: deep, data: Buffer.from('x') }]), 'files.zip']]));
  if (pushed.status === 201) {
    const worker = await send('/v1/workers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ component: 'sh.bad.deep', name: 'deep' }) });
    assert.ok(worker.status === 201 || (worker.status >= 400 && worker.status < 500), JSON.stringify(worker.body));
  } else {
    assert.ok(pushed.status >= 400 && pushed.status < 500, JSON.stringify(pushed.body));
  }
  await send('/v1/workers/w_nope/files/etc/passwd', { method: 'GET' });
  await send('/v1/blobs/sha256-nope', { method: 'GET' });
  // A host failure the API did not foresee: the message of Node's ENOENT names the file.
  const app = await buildApp({
    node: server.node,
    plugins: [async (a) => void a.get('/test/host-failure', { config: { role: 'public' } }, async () => readFile(join(server.dataDir, 'store', 'no-such-file')))],
  });
  const res = await app.inject({ method: 'GET', url: '/test/host-failure' });
  await app.close();
  bodies.push(res.body);
  assert.equal(res.statusCode, 500);
  assert.match(res.json().error.message, /ENOENT.*<data>\/store\/no-such-file/);
  assert.ok(bodies.length >= 15, `${bodies.length} bodies scanned`);
  const hostPaths = [server.dataDir, tmpdir(), homedir(), process.cwd()].filter((p) => p.length > 1);
  for (const body of bodies) {
    for (const p of hostPaths) assert.ok(!body.includes(p), `an error body names the host path ${p}: ${body.slice(0, 400)}`);
  }
});

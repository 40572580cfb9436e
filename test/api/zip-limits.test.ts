import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import yazl from 'yazl';
import { ApiClient, readAll } from '../../src/cli/api-client.js';
import { multipartBody } from '../../src/cli/multipart-upload.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { buildProgram } from '../../src/cli/main.js';
import { isWarrenError, type WarrenError } from '../../src/errors.js';
import { decodeFileTree } from '../../src/manifest/file-tree.js';
import type { Blobs, Integrity } from '../../src/ports/blobs.js';
import type { ComponentVersionRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';
import { writeRawZip } from '../manifest/support/write-raw-zip.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../support/warren-cli-entry.js', import.meta.url));
const MODULE = fixturePath('job_loop.wasm');
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const KiB = 2 ** 10;

/** Default limits: what a node started without flags accepts. */
let roomy: TestServer;
/** Small limits, to reach each rule with a few KiB. */
let tight: TestServer;
const TIGHT = { maxTotalBytes: 48 * KiB, maxEntryBytes: 16 * KiB, maxEntries: 8 };
const work = makeTempDir('warren-zip-limits-');

before(async () => {
  roomy = await startTestServer();
  tight = await startTestServer({ zipLimits: TIGHT });
});
after(async () => {
  await roomy?.close();
  await tight?.close();
  work.dispose();
});

const manifestFor = (ns: string, name: string, version = '1.0.0') =>
  `name = "${name}"\nnamespace = "${ns}"\nversion = "${version}"\nbinary = "build/main.wasm"\n\n[[files]]\nsource = "./static"\ntarget = "/static"\n`;

/** Pushes manifest + module + an already made files zip as the CLI does (one streamed multipart body). */
async function pushZip(client: ApiClient, manifest: string, zipPath: string): Promise<{ status: number; record: ComponentVersionRecord }> {
  const { body, headers } = await multipartBody([
    { name: 'manifest', text: manifest },
    { name: 'module', file: MODULE, filename: 'main.wasm', contentType: 'application/wasm' },
    { name: 'files', file: zipPath, filename: 'files.zip', contentType: 'application/zip' },
  ]);
  const res = await client.raw('POST', '/v1/components', body, headers);
  return { status: res.status, record: JSON.parse((await readAll(res.body)).toString('utf8')) as ComponentVersionRecord };
}

/** A zip of `static/<name>` entries made by yazl from streams, never holding an entry in memory. */
async function streamedZip(path: string, entries: { name: string; size: number; byte: number }[]): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addReadStream(repeatedBytes(e.size, e.byte), `static/${e.name}`, { size: e.size, mode: 0o100444 });
  zip.end();
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  await finished(out);
  return path;
}

function repeatedBytes(size: number, byte: number): Readable {
  const chunk = Buffer.alloc(Math.min(size, MiB), byte);
  return Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
    })(),
    { objectMode: false },
  );
}

async function blobsOfSize(blobs: Blobs, size: number): Promise<Integrity[]> {
  const out: Integrity[] = [];
  for await (const b of blobs.list()) if (b.size === size) out.push(b.integrity);
  return out;
}

async function fileTreeOf(server: TestServer, record: ComponentVersionRecord) {
  assert.ok(record.fileTree, 'the version has a file tree');
  return decodeFileTree(await server.node.ctx.ports.blobs.get(record.fileTree));
}

async function componentKeys(server: TestServer): Promise<string[]> {
  return (await server.node.ctx.ports.registry.list('component/')).map((e) => e.key);
}

async function treeBlobs(server: TestServer): Promise<number> {
  let n = 0;
  for await (const b of server.node.ctx.ports.blobs.list()) {
    if (b.size > MiB) continue;
    try {
      decodeFileTree(await server.node.ctx.ports.blobs.get(b.integrity));
      n++;
    } catch {
      // a file's bytes, not a tree
    }
  }
  return n;
}

/** Expects E_ZIP_TOO_LARGE (413) naming `rule` and `limit`, and no component record or tree left. */
async function refusedTooLarge(server: TestServer, push: () => Promise<unknown>, rule: string, limit: number, code = 'E_ZIP_TOO_LARGE', status = 413): Promise<WarrenError> {
  const keys = await componentKeys(server);
  const trees = await treeBlobs(server);
  let caught: unknown;
  await push().catch((e: unknown) => {
    caught = e;
  });
  assert.ok(isWarrenError(caught), `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.details.status, status, caught.message);
  assert.equal(caught.details.rule, rule, caught.message);
  if (code === 'E_ZIP_TOO_LARGE') {
    assert.equal(caught.details.limit, limit, caught.message);
    assert.ok(caught.message.includes(String(limit)) && caught.message.includes(rule), `the message names the rule and the limit: ${caught.message}`);
  }
  assert.deepEqual(await componentKeys(server), keys, 'no component recorded');
  assert.equal(await treeBlobs(server), trees, 'no file tree stored');
  return caught;
}

test('a component with a 2 MiB file of one repeated byte pushes (no ratio rule)', async () => {
  const dir = join(work.path, 'repeated');
  mkdirSync(join(dir, 'static'), { recursive: true });
  mkdirSync(join(dir, 'build'));
  writeFileSync(join(dir, 'warren.toml'), manifestFor('t.zip', 'repeated'));
  cpSync(MODULE, join(dir, 'build/main.wasm'));
  writeFileSync(join(dir, 'static/a.img'), Buffer.alloc(2 * MiB, 0x61));
  const pushed = await pushComponentDir(roomy.client, dir);
  assert.equal(pushed.created, true);
  assert.equal(pushed.record.filesSize, 2 * MiB);
  const tree = await fileTreeOf(roomy, pushed.record);
  assert.deepEqual(tree.entries.map((e) => [e.path, e.size]), [['/static/a.img', 2 * MiB]]);
  assert.deepEqual(await roomy.node.ctx.ports.blobs.get(tree.entries[0]!.digest), Buffer.alloc(2 * MiB, 0x61));
});

test('a 1 GiB file of zeros pushes over HTTP and is stored once', { timeout: 900_000 }, async () => {
  const zipPath = await streamedZip(join(work.path, 'zeros.zip'), [{ name: 'zeros.img', size: GiB, byte: 0 }]);
  assert.ok(statSync(zipPath).size < 8 * MiB, `1 GiB of zeros deflates to a few MiB (${statSync(zipPath).size} bytes)`);
  const blobs = roomy.node.ctx.ports.blobs;

  const first = await pushZip(roomy.client, manifestFor('t.zip', 'zeros', '1.0.0'), zipPath);
  assert.equal(first.status, 201);
  assert.equal(first.record.filesSize, GiB);
  const [entry] = (await fileTreeOf(roomy, first.record)).entries;
  assert.equal(entry!.path, '/static/zeros.img');
  assert.equal(entry!.size, GiB);
  assert.equal((await blobs.info(entry!.digest))?.size, GiB, 'the blob holds the inflated GiB');
  assert.deepEqual(await blobsOfSize(blobs, GiB), [entry!.digest]);
  const stored = statSync((await blobs.path(entry!.digest))!);

  // The same bytes again, under a new version: the file tree points at the same blob, which is
  // neither written again nor duplicated.
  const second = await pushZip(roomy.client, manifestFor('t.zip', 'zeros', '1.0.1'), zipPath);
  assert.equal(second.status, 201);
  assert.equal(second.record.fileTree, first.record.fileTree);
  assert.deepEqual(await blobsOfSize(blobs, GiB), [entry!.digest], 'one 1 GiB blob in the store');
  const again = statSync((await blobs.path(entry!.digest))!);
  assert.equal(again.ino, stored.ino, 'the stored file was not replaced');
  assert.equal(again.nlink, stored.nlink);
});

test('an entry over the per-entry limit, a total over the total limit and too many entries: E_ZIP_TOO_LARGE, nothing recorded', async () => {
  const zip = (name: string, entries: { name: string; size: number; byte: number }[]) => streamedZip(join(work.path, `${name}.zip`), entries);
  const push = (name: string, zipPath: string) => () => pushZip(tight.client, manifestFor('t.tight', name), zipPath);
  const sized = (n: number, size: number) => Array.from({ length: n }, (_, i) => ({ name: `f${i}.bin`, size, byte: i }));

  // Exactly at every limit passes: 3 entries of 16 KiB = 48 KiB.
  const atLimit = await pushZip(tight.client, manifestFor('t.tight', 'at_limit'), await zip('at_limit', sized(3, 16 * KiB)));
  assert.equal(atLimit.status, 201);
  assert.equal(atLimit.record.filesSize, TIGHT.maxTotalBytes);

  await refusedTooLarge(tight, push('big', await zip('big', [{ name: 'big.bin', size: 16 * KiB + 1, byte: 7 }])), 'max-entry-bytes', TIGHT.maxEntryBytes);
  // Each entry under its own limit, together past the total.
  await refusedTooLarge(tight, push('total', await zip('total', sized(4, 16 * KiB))), 'max-total-bytes', TIGHT.maxTotalBytes);
  await refusedTooLarge(tight, push('many', await zip('many', sized(9, 1))), 'max-entries', TIGHT.maxEntries);
});

test('a header that lies about its size is caught while the real bytes stream', async () => {
  const liar = (name: string, size: number) => {
    const path = join(work.path, `${name}.zip`);
    // Declares 1 KiB (under every limit), inflates to `size`.
    writeFileSync(path, writeRawZip([{ name: 'static/liar.bin', data: Buffer.alloc(size, 0x5a), declaredSize: KiB }]));
    return () => pushZip(tight.client, manifestFor('t.tight', name), path);
  };
  await refusedTooLarge(tight, liar('liar_small', 8 * KiB), 'size-mismatch', 0, 'E_ZIP_UNSAFE', 400);
  await refusedTooLarge(tight, liar('liar_bomb', 64 * MiB), 'size-mismatch', 0, 'E_ZIP_UNSAFE', 400);
});

test('warren serve: --zip-max-total, --zip-max-entry and --zip-max-entries are in --help and set the limits', { timeout: 120_000 }, async () => {
  const serve = buildProgram().commands.find((c) => c.name() === 'serve')!;
  const help = serve.helpInformation();
  for (const flag of ['--zip-max-total <size>', '--zip-max-entry <size>', '--zip-max-entries <n>']) assert.ok(help.includes(flag), `${flag} in:\n${help}`);
  assert.match(help, /default:\s+"8GiB"/);
  assert.match(help, /default:\s+"100000"/);
  const { stdout } = await run(process.execPath, [CLI, 'serve', '--help']);
  assert.match(stdout, /--zip-max-entry <size>/);

  const dataDir = join(work.path, 'served');
  const child = spawn(process.execPath, [CLI, '--data', dataDir, 'serve', '--port', '0', '--zip-max-total', '1536', '--zip-max-entry', '1KiB', '--zip-max-entries', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WARREN_LOG: 'warn' },
  });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /warren listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening:\n${out}\n${err}`)));
    });
    const client = new ApiClient({ server: url, token: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim() });
    const ok = await pushZip(client, manifestFor('t.served', 'ok'), await streamedZip(join(work.path, 'served-ok.zip'), [{ name: 'a', size: KiB, byte: 1 }, { name: 'b', size: 512, byte: 2 }]));
    assert.equal(ok.status, 201);
    const refusal = async (name: string, entries: { name: string; size: number; byte: number }[]) => {
      const e = await pushZip(client, manifestFor('t.served', name), await streamedZip(join(work.path, `served-${name}.zip`), entries)).catch((x: unknown) => x);
      assert.ok(isWarrenError(e, 'E_ZIP_TOO_LARGE') && e.details.status === 413, String(e));
      return e;
    };
    assert.equal((await refusal('entry', [{ name: 'a', size: KiB + 1, byte: 1 }])).details.limit, KiB);
    assert.equal((await refusal('total', [{ name: 'a', size: KiB, byte: 1 }, { name: 'b', size: KiB, byte: 2 }])).details.limit, 1536);
    assert.equal((await refusal('count', [{ name: 'a', size: 1, byte: 1 }, { name: 'b', size: 1, byte: 2 }, { name: 'c', size: 1, byte: 3 }])).details.limit, 2);
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
});

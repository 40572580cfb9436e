import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import yauzl from 'yauzl';
import { isWarrenError } from '../../src/errors.js';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import { validateManifest } from '../../src/manifest/validate-manifest.js';
import type { Manifest } from '../../src/manifest/manifest-types.js';
import { packComponentFiles } from '../../src/manifest/pack-files.js';
import { unpackComponentFiles } from '../../src/manifest/unpack-files.js';
import { readFileTree } from '../../src/manifest/file-tree.js';
import { makeTempDir } from '../support/temp-dir.js';

const base = { name: 'app', namespace: 'test', version: '1.0.0', binary: 'app.wasm' };
const manifestOf = (files: Record<string, unknown>[], extra: Record<string, unknown> = {}): Manifest => validateManifest({ ...base, files, ...extra });

function write(path: string, data: string | Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
}

/** Lists name → unix mode of a zip's entries. */
function zipModes(zipPath: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const modes = new Map<string, number>();
      zip.on('entry', (e: yauzl.Entry) => {
        modes.set(e.fileName, (e.externalFileAttributes >>> 16) & 0o177777);
        zip.readEntry();
      });
      zip.on('end', () => resolve(modes));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

test('pack → unpack round trip through the blob store: dirs, a read-write file, modes from the manifest', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const dir = join(tmp.path, 'comp');
  write(join(dir, 'static/index.html'), '<h1>hi</h1>');
  write(join(dir, 'static/css/site.css'), 'body{}');
  write(join(dir, 'static/empty.txt'), '');
  mkdirSync(join(dir, 'static/nothing-here'), { recursive: true });
  write(join(dir, 'config.json'), '{"a":1}');
  // Incompressible: a large run of one byte would (rightly) trip the unpacker's ratio limit.
  write(join(dir, 'big.bin'), randomBytes(3 * 2 ** 20));
  symlinkSync('index.html', join(dir, 'static/alias.html'));
  const manifest = manifestOf([
    { source: './static', target: '/srv/www' },
    { source: 'config.json', target: '/etc/app/config.json', permissions: 'read-write' },
    { source: 'big.bin', target: '/data.bin' },
  ]);
  const progress: [number, number][] = [];
  const packed = await packComponentFiles(dir, manifest, { onProgress: (d, total) => progress.push([d, total]) });
  t.after(() => rmSync(packed.zipPath!, { force: true }));
  const expectedBytes = 11 + 6 + 0 + 7 + 3 * 2 ** 20 + 11;
  assert.equal(packed.entries, 6);
  assert.equal(packed.bytes, expectedBytes);
  assert.ok(packed.zipBytes > 3 * 2 ** 20 && packed.zipBytes < 3 * 2 ** 20 + 10_000);
  assert.deepEqual(progress.at(-1), [expectedBytes, expectedBytes]);

  const modes = await zipModes(packed.zipPath!);
  assert.deepEqual([...modes.keys()].sort(), ['data.bin', 'etc/app/config.json', 'srv/www/alias.html', 'srv/www/css/site.css', 'srv/www/empty.txt', 'srv/www/index.html']);
  assert.equal(modes.get('etc/app/config.json'), 0o100666);
  assert.equal(modes.get('srv/www/index.html'), 0o100444);

  const blobs = new DiskBlobs(join(tmp.path, 'store'));
  const { tree, treeDigest, totalBytes } = await unpackComponentFiles(packed.zipPath!, blobs, manifest);
  assert.equal(totalBytes, expectedBytes);
  assert.deepEqual(
    tree.entries.map((e) => [e.path, e.mode, e.size]),
    [
      ['/data.bin', 'ro', 3 * 2 ** 20],
      ['/etc/app/config.json', 'rw', 7],
      ['/srv/www/alias.html', 'ro', 11],
      ['/srv/www/css/site.css', 'ro', 6],
      ['/srv/www/empty.txt', 'ro', 0],
      ['/srv/www/index.html', 'ro', 11],
    ],
  );
  for (const e of tree.entries) {
    const expected = e.path === '/data.bin' ? readFileSync(join(dir, 'big.bin')) : null;
    if (expected) assert.ok((await blobs.get(e.digest)).equals(expected));
  }
  assert.equal((await blobs.get(tree.entries[1]!.digest)).toString(), '{"a":1}');
  assert.equal(tree.entries[2]!.digest, tree.entries[5]!.digest, 'a symlink inside the dir packs the same bytes');
  assert.deepEqual(await readFileTree(blobs, treeDigest), tree);
});

test('a file shared by two versions is stored once; the same files give the same tree digest', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const blobs = new DiskBlobs(join(tmp.path, 'store'));
  const v1 = join(tmp.path, 'v1');
  const v2 = join(tmp.path, 'v2');
  write(join(v1, 'assets/shared.txt'), 'same bytes in both versions');
  write(join(v1, 'assets/only-v1.txt'), 'one');
  write(join(v2, 'assets/shared.txt'), 'same bytes in both versions');
  write(join(v2, 'assets/only-v2.txt'), 'two');
  const manifest = manifestOf([{ source: 'assets', target: '/assets' }]);
  const p1 = await packComponentFiles(v1, manifest);
  const p2 = await packComponentFiles(v2, manifest);
  const p1again = await packComponentFiles(v1, manifest);
  t.after(() => [p1, p2, p1again].forEach((p) => rmSync(p.zipPath!, { force: true })));
  const u1 = await unpackComponentFiles(p1.zipPath!, blobs, manifest);
  const u2 = await unpackComponentFiles(p2.zipPath!, blobs, manifest);
  const shared1 = u1.tree.entries.find((e) => e.path === '/assets/shared.txt')!;
  const shared2 = u2.tree.entries.find((e) => e.path === '/assets/shared.txt')!;
  assert.equal(shared1.digest, shared2.digest);
  assert.notEqual(u1.treeDigest, u2.treeDigest);
  let count = 0;
  for await (const _ of blobs.list()) count++;
  assert.equal(count, 3 + 2, 'three distinct files + two trees');
  const u1again = await unpackComponentFiles(p1again.zipPath!, blobs, manifest);
  assert.equal(u1again.treeDigest, u1.treeDigest);
  assert.ok(readFileSync(p1.zipPath!).equals(readFileSync(p1again.zipPath!)), 'packing is reproducible');
});

test('an http source is fetched at pack time', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const server = createServer((req, res) => {
    if (req.url === '/words.txt') res.end('apple\nbanana\n');
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const dir = join(tmp.path, 'comp');
  mkdirSync(dir);
  const manifest = manifestOf([{ source: `http://127.0.0.1:${port}/words.txt`, target: '/usr/share/words', permissions: 'read-write' }]);
  const packed = await packComponentFiles(dir, manifest);
  t.after(() => rmSync(packed.zipPath!, { force: true }));
  const blobs = new DiskBlobs(join(tmp.path, 'store'));
  const { tree } = await unpackComponentFiles(packed.zipPath!, blobs, manifest);
  assert.deepEqual(tree.entries.map((e) => [e.path, e.mode, e.size]), [['/usr/share/words', 'rw', 13]]);
  assert.equal((await blobs.get(tree.entries[0]!.digest)).toString(), 'apple\nbanana\n');

  const missing = manifestOf([{ source: `http://127.0.0.1:${port}/nope`, target: '/x' }]);
  await assert.rejects(packComponentFiles(dir, missing), (err) => isWarrenError(err, 'E_UNAVAILABLE') && err.details.status === 404);
});

test('no [[files]] gives no zip; declared but empty sources give an empty zip that unpacks to an empty tree', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  assert.deepEqual(await packComponentFiles(tmp.path, manifestOf([])), { zipPath: null, entries: 0, bytes: 0, zipBytes: 0 });
  mkdirSync(join(tmp.path, 'empty'));
  const manifest = manifestOf([{ source: 'empty', target: '/e' }]);
  const packed = await packComponentFiles(tmp.path, manifest);
  t.after(() => rmSync(packed.zipPath!, { force: true }));
  assert.equal(packed.entries, 0);
  assert.ok(existsSync(packed.zipPath!));
  const { tree, totalBytes } = await unpackComponentFiles(packed.zipPath!, new DiskBlobs(join(tmp.path, 'store')), manifest);
  assert.deepEqual(tree, { version: 1, entries: [] });
  assert.equal(totalBytes, 0);
});

test('packing refuses sources that escape the component dir', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const dir = join(tmp.path, 'comp');
  write(join(tmp.path, 'secret.txt'), 'secret');
  write(join(dir, 'ok/a.txt'), 'a');
  symlinkSync(join(tmp.path, 'secret.txt'), join(dir, 'ok/leak.txt'));
  symlinkSync(tmp.path, join(dir, 'updir'));
  const outsideLink = manifestOf([{ source: 'ok', target: '/ok' }]);
  await assert.rejects(packComponentFiles(dir, outsideLink), (err) => isWarrenError(err, 'E_PATH_INVALID') && String(err.details.path).endsWith('leak.txt'));
  await assert.rejects(packComponentFiles(dir, manifestOf([{ source: 'updir/secret.txt', target: '/s' }])), (err) => isWarrenError(err, 'E_PATH_INVALID'));
  await assert.rejects(packComponentFiles(dir, manifestOf([{ source: 'missing', target: '/m' }])), (err) => isWarrenError(err, 'E_NOT_FOUND'));
  // A manifest object that skipped validation still cannot climb out.
  const forged = { ...manifestOf([]), files: [{ source: '../secret.txt', target: '/s', permissions: 'read-only' as const }] };
  await assert.rejects(packComponentFiles(dir, forged), (err) => isWarrenError(err, 'E_PATH_INVALID'));
});

test('packing re-checks targets after expanding directories', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  write(join(tmp.path, 'static/a.txt'), 'a');
  write(join(tmp.path, 'static/b.txt'), 'b');
  write(join(tmp.path, 'other.txt'), 'o');
  write(join(tmp.path, 'extra.txt'), 'x');
  // Same guest path from a directory and a file.
  const dup = manifestOf([{ source: 'static', target: '/s' }, { source: 'other.txt', target: '/s/a.txt' }]);
  await assert.rejects(packComponentFiles(tmp.path, dup), (err) => isWarrenError(err, 'E_MANIFEST_INVALID') && /both yield \/s\/a\.txt/.test(err.message));
  // A target inside a target that turned out to be a file.
  const nested = manifestOf([{ source: 'other.txt', target: '/o' }, { source: 'extra.txt', target: '/o/x' }]);
  await assert.rejects(packComponentFiles(tmp.path, nested), (err) => isWarrenError(err, 'E_MANIFEST_INVALID') && err.message.includes('files[1].target'));
  // A file added into a directory target is fine and keeps its own permissions.
  const overlay = manifestOf([{ source: 'static', target: '/s' }, { source: 'extra.txt', target: '/s/extra.txt', permissions: 'read-write' }]);
  const packed = await packComponentFiles(tmp.path, overlay);
  t.after(() => rmSync(packed.zipPath!, { force: true }));
  const { tree } = await unpackComponentFiles(packed.zipPath!, new DiskBlobs(join(tmp.path, 'store')), overlay);
  assert.deepEqual(tree.entries.map((e) => [e.path, e.mode]), [['/s/a.txt', 'ro'], ['/s/b.txt', 'ro'], ['/s/extra.txt', 'rw']]);
});

test('file names that cannot be guest paths are refused at pack time', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  write(join(tmp.path, 'd/back\\slash.txt'), 'x');
  await assert.rejects(packComponentFiles(tmp.path, manifestOf([{ source: 'd', target: '/d' }])), (err) => isWarrenError(err, 'E_PATH_INVALID') && err.details.rule === 'no-backslash');
});

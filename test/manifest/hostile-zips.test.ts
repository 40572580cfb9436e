import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import yazl from 'yazl';
import { isWarrenError, type ErrorCode } from '../../src/errors.js';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import { validateManifest } from '../../src/manifest/validate-manifest.js';
import { unpackComponentFiles, type UnpackLimits } from '../../src/manifest/unpack-files.js';
import { decodeFileTree } from '../../src/manifest/file-tree.js';
import { makeTempDir } from '../support/temp-dir.js';
import { writeRawZip, type RawEntry } from './support/write-raw-zip.js';

const manifest = validateManifest({
  name: 'app',
  namespace: 'test',
  version: '1.0.0',
  binary: 'app.wasm',
  files: [
    { source: 'static', target: '/static' },
    { source: 'conf', target: '/etc/conf', permissions: 'read-write' },
  ],
});

async function storedBlobs(blobs: DiskBlobs): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const info of blobs.list()) out.push(await blobs.get(info.integrity));
  return out;
}

function isTree(bytes: Buffer): boolean {
  try {
    decodeFileTree(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Unpacks `zip` into a fresh store and asserts the refusal: its code, its rule, the entry it
 * names, and that no tree was recorded. Returns the blobs left behind (garbage for GC).
 */
async function refused(zip: Buffer, code: ErrorCode, rule: string | null, entry: string | null, limits?: UnpackLimits): Promise<Buffer[]> {
  const tmp = makeTempDir();
  try {
    const zipPath = join(tmp.path, 'files.zip');
    writeFileSync(zipPath, zip);
    const blobs = new DiskBlobs(join(tmp.path, 'store'));
    await assert.rejects(unpackComponentFiles(zipPath, blobs, manifest, limits), (err) => {
      assert.ok(isWarrenError(err), String(err));
      assert.equal(err.code, code, err.message);
      if (rule !== null) assert.equal(err.details.rule, rule, err.message);
      if (entry !== null) assert.equal(err.details.entry, entry, err.message);
      return true;
    });
    const left = await storedBlobs(blobs);
    assert.ok(!left.some(isTree), 'a refused zip must not leave a file tree');
    return left;
  } finally {
    tmp.dispose();
  }
}

const ok: RawEntry = { name: 'static/ok.txt', data: Buffer.from('fine') };

test('the raw zip writer makes zips the unpacker accepts (control case)', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const zipPath = join(tmp.path, 'ok.zip');
  writeFileSync(zipPath, writeRawZip([ok, { name: 'etc/conf/a', data: Buffer.from('x'), method: 0, mode: 0o100444 }, { name: 'static/sub/', mode: 0o040755 }]));
  const { tree } = await unpackComponentFiles(zipPath, new DiskBlobs(join(tmp.path, 'store')), manifest);
  // The zip said 0444 for a read-write target: the manifest wins.
  assert.deepEqual(tree.entries.map((e) => [e.path, e.mode, e.size]), [['/etc/conf/a', 'rw', 1], ['/static/ok.txt', 'ro', 4]]);
});

test('unsafe names are refused before anything is written', async () => {
  const cases: [string | Buffer, string, string][] = [
    ['../evil', 'no-dotdot', '../evil'],
    ['static/../../evil', 'no-dotdot', 'static/../../evil'],
    ['/etc/x', 'absolute-path', '/etc/x'],
    ['C:/x', 'absolute-path', 'C:/x'],
    ['static\\..\\..\\evil', 'no-backslash', 'static\\..\\..\\evil'],
    ['static/a\0b', 'no-nul', 'static/a\0b'],
    ['static//a', 'no-double-slash', 'static//a'],
    ['static/./a', 'no-dot-segment', 'static/./a'],
    ['', 'empty-name', ''],
  ];
  for (const [name, rule, entry] of cases) {
    const left = await refused(writeRawZip([ok, { name, data: Buffer.from('x') }]), 'E_ZIP_UNSAFE', rule, entry);
    assert.equal(left.length, 0, `nothing written for ${JSON.stringify(name)}`);
  }
  await refused(writeRawZip([{ name: Buffer.from([0x73, 0x74, 0x61, 0x74, 0x69, 0x63, 0x2f, 0xe9]), data: Buffer.from('x'), utf8: false }]), 'E_ZIP_UNSAFE', 'name-encoding', null);
  await refused(writeRawZip([{ name: Buffer.from([0x73, 0x2f, 0xff, 0xfe]), data: Buffer.from('x'), utf8: true }]), 'E_ZIP_UNSAFE', 'name-encoding', null);
});

test('symlinks, devices, duplicates, strays, overlaps and file/dir conflicts are refused', async () => {
  assert.equal((await refused(writeRawZip([ok, { name: 'static/link', data: Buffer.from('/etc/passwd'), mode: 0o120777 }]), 'E_ZIP_UNSAFE', 'no-symlink', 'static/link')).length, 0);
  await refused(writeRawZip([{ name: 'static/fifo', mode: 0o010644 }]), 'E_ZIP_UNSAFE', 'regular-file', 'static/fifo');
  await refused(writeRawZip([ok, { name: 'static/ok.txt', data: Buffer.from('again') }]), 'E_ZIP_UNSAFE', 'unique-name', 'static/ok.txt');
  await refused(writeRawZip([ok, { name: 'static/ok.txt/', mode: 0o040755 }]), 'E_ZIP_UNSAFE', 'unique-name', 'static/ok.txt/');
  await refused(writeRawZip([ok, { name: 'other/x', data: Buffer.from('x') }]), 'E_ZIP_UNSAFE', 'under-declared-target', 'other/x');
  await refused(writeRawZip([ok, { name: 'staticx', data: Buffer.from('x') }]), 'E_ZIP_UNSAFE', 'under-declared-target', 'staticx');
  await refused(writeRawZip([ok, { name: 'static/copy.txt', data: Buffer.from('fine'), shareDataWith: 0 }]), 'E_ZIP_UNSAFE', 'no-overlap', 'static/copy.txt');
  await refused(writeRawZip([{ name: 'static/a', data: Buffer.from('x') }, { name: 'static/a/b', data: Buffer.from('y') }]), 'E_ZIP_UNSAFE', 'file-is-directory', 'static/a/b');
});

test('declared and real sizes must agree', async () => {
  const data = Buffer.from('twelve bytes');
  // Header claims more than the data holds (stored and deflated).
  await refused(writeRawZip([ok, { name: 'static/short', data, declaredSize: 100 }]), 'E_ZIP_UNSAFE', 'size-mismatch', 'static/short');
  // Header claims less than the data holds: a lying header, caught while streaming.
  await refused(writeRawZip([ok, { name: 'static/long', data, declaredSize: 3 }]), 'E_ZIP_UNSAFE', 'size-mismatch', 'static/long');
  await refused(writeRawZip([{ name: 'static/empty-liar', data, declaredSize: 0 }]), 'E_ZIP_UNSAFE', 'size-mismatch', 'static/empty-liar');
  await refused(writeRawZip([ok, { name: 'static/crc', data, crc: 12345 }]), 'E_ZIP_INVALID', 'crc32', 'static/crc');
});

test('a yazl zip with a patched central directory size is refused', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('hello world, hello world'), 'static/patched.txt', { mode: 0o100444 });
  const path = join(tmp.path, 'y.zip');
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  zip.end();
  await finished(out);
  const bytes = readFileSync(path);
  const cd = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  assert.equal(bytes.readUInt32LE(cd + 24), 24);
  bytes.writeUInt32LE(20, cd + 24); // uncompressed size in the central record
  await refused(bytes, 'E_ZIP_UNSAFE', 'size-mismatch', 'static/patched.txt');
});

test('zip bombs: total size, entry size and entry count limits; no ratio rule', async (t) => {
  const zeros = Buffer.alloc(8 * 2 ** 20);
  // 8 MiB of zeros deflates ~1000:1; only absolute sizes decide, so it unpacks.
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const zipPath = join(tmp.path, 'zeros.zip');
  const zipped = writeRawZip([ok, { name: 'static/zeros.img', data: zeros }]);
  assert.ok(zipped.length * 200 < zeros.length, `the entry compresses past the old 200:1 rule (${zipped.length} bytes)`);
  writeFileSync(zipPath, zipped);
  const { tree } = await unpackComponentFiles(zipPath, new DiskBlobs(join(tmp.path, 'store')), manifest);
  assert.deepEqual(tree.entries.map((e) => [e.path, e.size]), [['/static/ok.txt', 4], ['/static/zeros.img', zeros.length]]);

  // Declared sizes are checked before any byte is written: nothing is left behind.
  const big = await refused(writeRawZip([ok, { name: 'static/bomb', data: zeros }]), 'E_ZIP_TOO_LARGE', 'max-entry-bytes', 'static/bomb', { maxEntryBytes: 2 ** 20 });
  assert.equal(big.length, 0, 'declared sizes are checked before any byte is written');
  await refused(
    writeRawZip([{ name: 'static/a', data: Buffer.alloc(3000, 1) }, { name: 'static/b', data: Buffer.alloc(3000, 2) }]),
    'E_ZIP_TOO_LARGE',
    'max-total-bytes',
    'static/b',
    { maxTotalBytes: 4096 },
  );
  await refused(writeRawZip([ok, { name: 'static/big', data: Buffer.alloc(5000, 1) }]), 'E_ZIP_TOO_LARGE', 'max-entry-bytes', 'static/big', { maxEntryBytes: 1000 });
  await refused(writeRawZip([ok, { name: 'static/b', data: Buffer.from('b') }, { name: 'static/c', data: Buffer.from('c') }]), 'E_ZIP_TOO_LARGE', 'max-entries', null, { maxEntries: 2 });
  // The refusal names the rule and the limit.
  await assert.rejects(
    (async () => {
      const p = join(tmp.path, 'total.zip');
      writeFileSync(p, writeRawZip([{ name: 'static/a', data: Buffer.alloc(3000) }, { name: 'static/b', data: Buffer.alloc(3000) }]));
      await unpackComponentFiles(p, new DiskBlobs(join(tmp.path, 'store2')), manifest, { maxTotalBytes: 4096 });
    })(),
    (err) => isWarrenError(err, 'E_ZIP_TOO_LARGE') && err.details.limit === 4096 && /max-total-bytes/.test(err.message) && /4096/.test(err.message),
  );
  // A bomb behind a lying header: declares 1 KiB, inflates to 8 MiB. Caught as it streams,
  // long before the 8 MiB are written.
  const liar = await refused(writeRawZip([{ name: 'static/liar', data: zeros, declaredSize: 1024 }]), 'E_ZIP_UNSAFE', 'size-mismatch', 'static/liar');
  assert.equal(liar.length, 0);
});

test('malformed archives are E_ZIP_INVALID', async () => {
  await refused(Buffer.from('this is not a zip file at all, not even close'), 'E_ZIP_INVALID', null, null);
  const good = writeRawZip([ok]);
  await refused(good.subarray(0, good.length - 10), 'E_ZIP_INVALID', null, null);
  const corrupt = Buffer.from(good);
  corrupt.writeUInt32LE(0xdeadbeef, 0); // local header signature
  await refused(corrupt, 'E_ZIP_INVALID', null, 'static/ok.txt');
  await refused(writeRawZip([{ name: 'static/m', data: Buffer.from('x'), method: 12 }]), 'E_ZIP_INVALID', 'compression-method', 'static/m');
});

test('ZIP64 records (forced by yazl) unpack', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('sixty-four'), 'static/z64.txt', { forceZip64Format: true });
  const path = join(tmp.path, 'z64.zip');
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  zip.end({ forceZip64Format: true, comment: '' });
  await finished(out);
  assert.ok(readFileSync(path).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'has a ZIP64 end record');
  const { tree } = await unpackComponentFiles(path, new DiskBlobs(join(tmp.path, 'store')), manifest);
  assert.deepEqual(tree.entries.map((e) => [e.path, e.size]), [['/static/z64.txt', 10]]);
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import yazl from 'yazl';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import { unpackComponentFiles } from '../../src/manifest/unpack-files.js';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import { makeTempDir } from '../support/temp-dir.js';
import { bump, fcOptions, okOrCode, summary } from './hostile-config.js';

const counts = summary('fuzz-zip');
const tmp = makeTempDir('warren-hostile-zip-');
let blobs: DiskBlobs;

const manifest = parseManifest(`name = "z"
namespace = "sh.fuzz"
version = "1.0.0"
binary = "m.wasm"

[[files]]
source = "./static"
target = "/static"

[[files]]
source = "./state"
target = "/state"
permissions = "read-write"
`);

const ZIP_CODES = ['E_ZIP_INVALID', 'E_ZIP_UNSAFE', 'E_ZIP_TOO_LARGE'] as const;
/**
 * Small absolute limits, reachable by a few flipped bytes or a few generated entries. A 2 MB
 * entry of one repeated byte is exactly at the per-entry limit and must be accepted (there is no
 * compression-ratio rule); three of them pass the total.
 */
const LIMITS = { maxTotalBytes: 5_000_000, maxEntries: 64, maxEntryBytes: 2_000_000 };

function buildZip(entries: { name: string; data: Buffer; compress: boolean; mode?: number; dir?: boolean }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.dir) zip.addEmptyDirectory(e.name, { mode: e.mode ?? 0o40755 });
    else zip.addBuffer(e.data, e.name, { compress: e.compress, mode: e.mode ?? 0o100444 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

let base: Buffer;
before(async () => {
  blobs = new DiskBlobs(join(tmp.path, 'store'));
  base = await buildZip([
    { name: 'static/', data: Buffer.alloc(0), compress: false, dir: true },
    { name: 'static/a.txt', data: Buffer.from('hello from a\n'.repeat(40)), compress: true },
    { name: 'static/b.bin', data: Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 255)), compress: false },
    { name: 'static/empty', data: Buffer.alloc(0), compress: false },
    { name: 'state/count.txt', data: Buffer.from('0\n'), compress: true, mode: 0o100666 },
  ]);
});
after(async () => {
  await blobs.close();
  tmp.dispose();
});

/** Byte-level mutations: flips, overwrites with interesting values, cuts, splices, duplications. */
const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('flip', 'set', 'u32', 'u16', 'cut', 'splice', 'dupTail', 'zero'),
  value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x7f, 0x80)),
  wide: fc.constantFrom(0, 1, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000, 0xffff, 0x1000_0000, 30, 46),
  len: fc.integer({ min: 1, max: 64 }),
});

function mutate(buf: Buffer, edits: { at: number; kind: string; value: number; wide: number; len: number }[]): Buffer {
  let b = Buffer.from(buf);
  for (const e of edits) {
    if (b.length === 0) break;
    const at = e.at % b.length;
    switch (e.kind) {
      case 'flip':
        b[at] ^= 1 << (e.value & 7);
        break;
      case 'set':
        b[at] = e.value;
        break;
      case 'u32':
        if (at + 4 <= b.length) b.writeUInt32LE(e.wide >>> 0, at);
        break;
      case 'u16':
        if (at + 2 <= b.length) b.writeUInt16LE(e.wide & 0xffff, at);
        break;
      case 'cut':
        b = b.subarray(0, at);
        break;
      case 'splice':
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + e.len))]);
        break;
      case 'dupTail':
        b = Buffer.concat([b, b.subarray(at)]);
        break;
      case 'zero':
        b.fill(0, at, Math.min(b.length, at + e.len));
        break;
    }
  }
  return b;
}

/** Targets the header fields yauzl reads: sizes, offsets, name lengths, attributes, flags. */
const fieldEdit = fc.record({
  which: fc.constantFrom('local', 'central', 'eocd'),
  entry: fc.nat({ max: 5 }),
  offset: fc.constantFrom(6, 8, 14, 18, 22, 26, 28, 30, 32, 34, 38, 42, 10, 12, 16, 20),
  value: fc.constantFrom(0, 1, 0xffff, 0xffff_ffff, 0x7fff_ffff, 0x800, 0xa1ed0000, 0x41ed0000, 99, 12, 9),
  width: fc.constantFrom(2, 4),
});

function editField(buf: Buffer, e: { which: string; entry: number; offset: number; value: number; width: number }): Buffer {
  const b = Buffer.from(buf);
  const sig = e.which === 'local' ? 0x04034b50 : e.which === 'central' ? 0x02014b50 : 0x06054b50;
  const hits: number[] = [];
  for (let i = 0; i + 4 <= b.length; i++) if (b.readUInt32LE(i) === sig) hits.push(i);
  if (hits.length === 0) return b;
  const at = hits[e.entry % hits.length]! + e.offset;
  if (at + e.width > b.length) return b;
  if (e.width === 2) b.writeUInt16LE(e.value & 0xffff, at);
  else b.writeUInt32LE(e.value >>> 0, at);
  return b;
}

const hostileNames = fc.constantFrom(
  '../evil', 'static/../../evil', '/static/abs', 'static/./a', 'static//a', 'static\\..\\evil', 'C:/evil', 'static/a\0b', '', 'static/',
  'static/a.txt', 'STATIC/a', 'other/x', 'static/' + 'x'.repeat(5000), 'static/\u202e', 'static/..', 'state', 'static/a.txt/inner',
);

async function storeSnapshot(): Promise<Set<string>> {
  const seen = new Set<string>();
  for await (const b of blobs.list()) seen.add(b.integrity);
  return seen;
}

/** A failed unpack may leave file blobs for GC, never a file tree blob. */
async function assertNoNewTree(before: Set<string>): Promise<void> {
  for await (const b of blobs.list()) {
    if (before.has(b.integrity) || b.size > 1 << 20) continue;
    const text = (await blobs.get(b.integrity)).toString('utf8');
    assert.ok(!/^\{"version":1,"entries"/.test(text), 'a failed unpack left a file tree blob behind');
  }
}

async function unpackCase(zipBytes: Buffer, label: string): Promise<void> {
  bump(counts, 'zip cases');
  const file = join(tmp.path, 'case.zip');
  writeFileSync(file, zipBytes);
  const before = await storeSnapshot();
  const r = await okOrCode(`unpack (${label})`, ZIP_CODES, () => unpackComponentFiles(file, blobs, manifest, LIMITS));
  if (!r.ok) {
    bump(counts, `refused ${r.code}`);
    await assertNoNewTree(before);
    return;
  }
  bump(counts, 'zip accepted');
  // Whatever got through is sane: safe paths under a declared target, blobs of the stated size.
  for (const e of r.value.tree.entries) {
    assert.ok(e.path.startsWith('/static/') || e.path.startsWith('/state/'), e.path);
    assert.ok(!e.path.split('/').some((c) => c === '..' || c === '.'), e.path);
    assert.equal((await blobs.get(e.digest)).length, e.size);
    assert.equal(e.mode, e.path.startsWith('/state/') ? 'rw' : 'ro');
  }
}

test('zip unpacker: byte-mutated zips → a tree or a stable E_ZIP_* code; no tree left by a failure', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 5 }), async (edits) => unpackCase(mutate(base, edits), 'bytes')),
    fcOptions(250),
  );
});

test('zip unpacker: header fields set to hostile values (sizes, offsets, name lengths, modes)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fieldEdit, { minLength: 1, maxLength: 3 }), async (edits) => unpackCase(edits.reduce(editField, base), 'fields')),
    fcOptions(250),
  );
});

test('zip unpacker: generated zips with hostile names, modes, duplicates and bombs', async () => {
  const entry = fc.record({
    name: fc.oneof(hostileNames, fc.constantFrom('static/', 'state/').chain((p) => fc.string({ minLength: 1, maxLength: 12 }).map((s) => p + s))),
    size: fc.constantFrom(0, 1, 100, 5000, 200_000, 2_000_000),
    compress: fc.boolean(),
    mode: fc.constantFrom(0o100444, 0o100666, 0o120777, 0o40755, 0o20666, 0o10644, 0o104755, 0),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
      let zipBytes: Buffer;
      try {
        zipBytes = await buildZip(entries.map((e) => ({ name: e.name, data: Buffer.alloc(e.size, 'z'), compress: e.compress, mode: e.mode })));
      } catch {
        return; // yazl itself refuses some names (absolute, ..): nothing to send
      }
      await unpackCase(zipBytes, 'generated');
    }),
    fcOptions(150),
  );
});

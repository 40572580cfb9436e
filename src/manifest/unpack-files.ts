import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { WarrenError, isWarrenError } from '../errors.js';
import type { Blobs, Integrity } from '../ports/blobs.js';
import type { FileTree, FileTreeEntry } from '../records.js';
import { checkZipEntry, DeclaredTargets, unsafe, type CheckedEntry } from './check-zip-entry.js';
import { comparePaths, treeOrderProblem, writeFileTree } from './file-tree.js';
import type { Manifest } from './manifest-types.js';
import { resolveZipLimits, type ZipLimits } from './zip-limits.js';

/** Absolute limits only (see zip-limits.ts); any left out take their defaults. */
export type UnpackLimits = Partial<ZipLimits>;

export interface UnpackResult {
  tree: FileTree;
  treeDigest: Integrity;
  totalBytes: number;
}

/**
 * Unpacks an uploaded files zip (server side) into blobs and stores the resulting file tree.
 *
 * Two passes. The first reads only the central directory and refuses anything unsafe (names,
 * links, duplicates, entries outside the manifest's targets) or too large by its declared sizes,
 * before a single byte is written. The second streams each file straight into `blobs.putStream`
 * while counting real inflated bytes against the same limits, so a header that lies about its
 * size is caught too (yauzl's `validateEntrySizes` plus our own count and CRC check). The limits
 * are absolute sizes (total, per entry, entry count), never compression ratios: a 1 GiB file of
 * zeros is a legitimate file, and it streams through in constant memory.
 *
 * On any failure the function throws and returns no tree: nothing is recorded. File blobs
 * already written for earlier entries stay as unreferenced garbage for GC; the tree blob is
 * written last, only after every entry passed, so a failed unpack never leaves a tree behind.
 *
 * Permissions come from the manifest's target, never from the zip: an entry's unix mode
 * (0444/0666 when packed by Warren) is ignored, even when it disagrees.
 *
 * Names are read as raw bytes (`decodeStrings: false`) so that every name rule is ours and
 * each refusal names its entry; yauzl's `strictFileNames` only acts on names it decodes
 * itself, and our check refuses backslashes just as it would.
 */
export async function unpackComponentFiles(zipPath: string, blobs: Blobs, manifest: Manifest, limits: UnpackLimits = {}): Promise<UnpackResult> {
  const lim = resolveZipLimits(limits);
  const zip = await openZip(zipPath);
  try {
    if (zip.entryCount > lim.maxEntries) {
      throw new WarrenError('E_ZIP_TOO_LARGE', `zip has ${zip.entryCount} entries, more than the limit of ${lim.maxEntries} (max-entries)`, {
        rule: 'max-entries',
        entries: zip.entryCount,
        limit: lim.maxEntries,
      });
    }
    const files = checkCentralDirectory(await readCentralDirectory(zip), manifest, lim);
    const entries: FileTreeEntry[] = [];
    let totalBytes = 0;
    for (const file of files) {
      const { digest, size } = await storeEntry(zip, file, blobs, lim, totalBytes);
      totalBytes += size;
      entries.push({ path: file.path, digest, mode: file.file.permissions === 'read-write' ? 'rw' : 'ro', size });
    }
    entries.sort((a, b) => comparePaths(a.path, b.path));
    const tree: FileTree = { version: 1, entries };
    const treeDigest = await writeFileTree(blobs, tree);
    return { tree, treeDigest, totalBytes };
  } finally {
    zip.close();
  }
}

type FileEntry = Extract<CheckedEntry, { kind: 'file' }>;

function openZip(zipPath: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(invalid(err));
      // yauzl emits 'error' on the ZipFile; an unheard one would crash the process.
      zip.on('error', () => undefined);
      resolve(zip);
    });
  });
}

function readCentralDirectory(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (err: Error) => reject(invalid(err)));
    zip.readEntry();
  });
}

function checkCentralDirectory(raw: Entry[], manifest: Manifest, lim: ZipLimits): FileEntry[] {
  const seenNames = new Set<string>();
  const seenOffsets = new Map<number, string>();
  const files: FileEntry[] = [];
  let declaredTotal = 0;
  const targets = new DeclaredTargets(manifest.files);
  for (const entry of raw) {
    const checked = checkZipEntry(entry, targets);
    const { name } = checked;
    // Compare as paths: `a/` and `a` are one name too.
    const key = name.replace(/\/$/, '');
    if (seenNames.has(key)) throw unsafe(name, 'unique-name', 'name appears more than once');
    seenNames.add(key);
    if (checked.kind === 'dir') continue;
    // Entries sharing one local header share bytes: the overlapping-entries kind of zip bomb.
    const other = seenOffsets.get(entry.relativeOffsetOfLocalHeader);
    if (other !== undefined) throw unsafe(name, 'no-overlap', `shares its data with entry ${JSON.stringify(other)}`);
    seenOffsets.set(entry.relativeOffsetOfLocalHeader, name);
    const size = entry.uncompressedSize;
    if (size > lim.maxEntryBytes) throw tooLarge(name, 'max-entry-bytes', `declares ${size} bytes, more than the per-entry limit of ${lim.maxEntryBytes} bytes`, lim.maxEntryBytes);
    declaredTotal += size;
    if (declaredTotal > lim.maxTotalBytes) {
      throw tooLarge(name, 'max-total-bytes', `brings the declared total to ${declaredTotal} bytes, more than the limit of ${lim.maxTotalBytes} bytes`, lim.maxTotalBytes);
    }
    files.push(checked);
  }
  const problem = treeOrderProblem(files.map((f) => ({ path: f.path })).sort((a, b) => comparePaths(a.path, b.path)));
  if (problem) {
    throw new WarrenError('E_ZIP_UNSAFE', `zip entries conflict: ${problem.message}`, { entry: problem.path.slice(1), rule: 'file-is-directory' });
  }
  return files;
}

async function storeEntry(zip: ZipFile, file: FileEntry, blobs: Blobs, lim: ZipLimits, totalBefore: number): Promise<{ digest: Integrity; size: number }> {
  const { entry, name } = file;
  const declared = entry.uncompressedSize;
  let real = 0;
  let crc = 0;
  async function* counted(stream: Readable): AsyncIterable<Uint8Array> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      real += chunk.length;
      if (real > declared) throw unsafe(name, 'size-mismatch', `holds more than its declared ${declared} bytes`);
      // Declared sizes passed these limits already; the real bytes are held to them too.
      if (real > lim.maxEntryBytes) throw tooLarge(name, 'max-entry-bytes', `inflates past the per-entry limit of ${lim.maxEntryBytes} bytes`, lim.maxEntryBytes);
      if (totalBefore + real > lim.maxTotalBytes) throw tooLarge(name, 'max-total-bytes', `inflates the total past the limit of ${lim.maxTotalBytes} bytes`, lim.maxTotalBytes);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  }
  try {
    const stream = await new Promise<Readable>((resolve, reject) => {
      zip.openReadStream(entry, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s)));
    });
    // yauzl emits a read error as an event without destroying the stream, so an error emitted
    // before putStream starts reading (it opens its file first) would leave the iteration below
    // waiting forever: destroying the stream with it keeps the error for the iteration. One
    // emitted after we stopped reading (our own count refused the entry first) is dropped.
    stream.on('error', (err) => stream.destroy(err));
    const info = await blobs.putStream(counted(stream));
    if (real !== declared) throw unsafe(name, 'size-mismatch', `declares ${declared} bytes but holds ${real}`);
    if (crc !== entry.crc32) throw new WarrenError('E_ZIP_INVALID', `zip entry ${JSON.stringify(name)} fails its CRC-32 check`, { entry: name, rule: 'crc32' });
    return { digest: info.integrity, size: real };
  } catch (err) {
    if (isWarrenError(err)) throw err;
    const message = (err as Error)?.message ?? String(err);
    if (/bytes in the stream|unexpected number of bytes/.test(message)) throw unsafe(name, 'size-mismatch', `real size differs from the declared ${declared} bytes (${message})`);
    throw new WarrenError('E_ZIP_INVALID', `zip entry ${JSON.stringify(name)} cannot be read: ${message}`, { entry: name, cause: message });
  }
}

function tooLarge(name: string, rule: string, message: string, limit: number): WarrenError {
  return new WarrenError('E_ZIP_TOO_LARGE', `zip entry ${JSON.stringify(name)} ${message} (${rule})`, { entry: name, rule, limit });
}

function invalid(err: unknown): WarrenError {
  if (isWarrenError(err)) return err;
  const message = (err as Error)?.message ?? String(err);
  return new WarrenError('E_ZIP_INVALID', `not a valid zip: ${message}`, { cause: message });
}

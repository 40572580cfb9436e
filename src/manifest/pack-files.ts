import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import yazl from 'yazl';
import { expandFileSources } from './expand-file-sources.js';
import type { Manifest } from './manifest-types.js';

export interface PackOptions {
  /** Bytes of source data read so far, of the total. */
  onProgress?: (done: number, total: number) => void;
  /** For URL sources; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface PackResult {
  /**
   * A zip in the OS temp dir, for the caller to upload and remove. Null only when the manifest
   * declares no `[[files]]`; declared sources that expand to nothing give an empty zip, because
   * the server expects an archive whenever the manifest declares files.
   */
  zipPath: string | null;
  entries: number;
  /** Sum of the packed files' sizes (uncompressed). */
  bytes: number;
  /** Size of the zip itself. */
  zipBytes: number;
}

export const READ_ONLY_MODE = 0o100444;
export const READ_WRITE_MODE = 0o100666;
/** Fixed so the same files make the same zip bytes. */
const ENTRY_MTIME = new Date(Date.UTC(2000, 0, 1));

/**
 * Packs a component's initial files (client side). Entries are named by guest path without
 * the leading `/`, Deflate-compressed, mode 0444/0666 by permission. ZIP64: yazl streams each
 * entry with a data descriptor and switches that entry's descriptor and central record to
 * ZIP64 once its real sizes or offset pass 0xfffffffe (yazl `Entry.useZip64Format`), and the
 * end record once the archive needs it, so nothing is forced here.
 */
export async function packComponentFiles(componentDir: string, manifest: Manifest, opts: PackOptions = {}): Promise<PackResult> {
  if (manifest.files.length === 0) return { zipPath: null, entries: 0, bytes: 0, zipBytes: 0 };
  const downloadDir = await mkdtemp(join(tmpdir(), 'warren-fetch-'));
  const zipPath = join(tmpdir(), `warren-files-${randomBytes(8).toString('hex')}.zip`);
  try {
    const entries = await expandFileSources(componentDir, manifest, downloadDir, opts.fetch ?? globalThis.fetch);
    const total = entries.reduce((n, e) => n + e.size, 0);
    let done = 0;
    opts.onProgress?.(0, total);
    const zip = new yazl.ZipFile();
    // yazl reports size mismatches as 'error' events but never listens to a source's own
    // errors, so both are funnelled into one rejection raced against the output finishing.
    let abort: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      abort = reject;
    });
    zip.on('error', (err: unknown) => abort(err));
    for (const entry of entries) {
      zip.addReadStreamLazy(
        entry.target.slice(1),
        {
          mode: entry.permissions === 'read-write' ? READ_WRITE_MODE : READ_ONLY_MODE,
          mtime: ENTRY_MTIME,
          compress: true,
          // yazl checks the bytes read against this: a file that changes while packing fails the pack.
          size: entry.size,
        },
        (cb) => {
          const counter = new Transform({
            transform(chunk: Buffer, _enc, next) {
              done += chunk.length;
              opts.onProgress?.(done, total);
              next(null, chunk);
            },
          });
          const source = createReadStream(entry.realPath);
          source.on('error', (err) => {
            counter.destroy(err);
            abort(err);
          });
          cb(null, source.pipe(counter));
        },
      );
    }
    const out = createWriteStream(zipPath);
    zip.outputStream.pipe(out);
    zip.end();
    await Promise.race([finished(out), failed]).catch((err: unknown) => {
      out.destroy();
      throw err;
    });
    return { zipPath, entries: entries.length, bytes: total, zipBytes: (await stat(zipPath)).size };
  } catch (err) {
    await rm(zipPath, { force: true });
    throw err;
  } finally {
    await rm(downloadDir, { recursive: true, force: true });
  }
}

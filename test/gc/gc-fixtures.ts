import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import type { Blobs } from '../../src/ports/blobs.js';
import type { ComponentVersionRecord, FileTree } from '../../src/records.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';

export async function openStore() {
  const dir = makeTempDir('warren-gc-');
  const blobs = new DiskBlobs(join(dir.path, 'store'));
  const registry = new SqliteRegistry(join(dir.path, 'registry.db'));
  return { blobs, registry, dispose: async () => (await registry.close(), dir.dispose()) };
}

/** A valid module made distinct by a custom section: same code, another digest. */
export function distinctModule(fixture: string, tag: string): Uint8Array {
  const wasm = new Uint8Array(readFileSync(fixturePath(fixture)));
  const name = new TextEncoder().encode('warren-test');
  const payload = new TextEncoder().encode(tag);
  const body = [name.length, ...name, ...payload];
  if (body.length > 127) throw new Error('tag too long for this helper');
  return new Uint8Array([...wasm, 0, body.length, ...body]);
}

/** Writes a file tree and its files; returns the tree digest and every blob written. */
export async function putFileTree(blobs: Blobs, files: { path: string; content: string }[]): Promise<{ tree: string; written: string[] }> {
  const entries: FileTree['entries'] = [];
  const written: string[] = [];
  for (const f of files) {
    const info = await blobs.put(f.content);
    written.push(info.integrity);
    entries.push({ path: f.path, digest: info.integrity, mode: 'ro', size: info.size });
  }
  entries.sort((a, b) => a.path.localeCompare(b.path));
  const tree: FileTree = { version: 1, entries };
  const info = await blobs.put(JSON.stringify(tree));
  return { tree: info.integrity, written: [...written, info.integrity] };
}

/** Stores module + manifest (+ files) and returns the record push would write, and every blob it names. */
export async function putComponent(
  blobs: Blobs,
  fq: string,
  version: string,
  wasm: Uint8Array,
  opts: { files?: { path: string; content: string }[]; extensions?: ComponentVersionRecord[] } = {},
): Promise<{ record: ComponentVersionRecord; written: string[] }> {
  const module = await blobs.put(wasm);
  const manifest = { name: fq.split('.').pop()!, namespace: fq.split('.').slice(0, -1).join('.'), version };
  const manifestBlob = await blobs.put(JSON.stringify({ ...manifest, fq }));
  const tree = opts.files?.length ? await putFileTree(blobs, opts.files) : null;
  const record: ComponentVersionRecord = {
    fq,
    namespace: manifest.namespace,
    name: manifest.name,
    version,
    manifest,
    manifestDigest: manifestBlob.integrity,
    module: { digest: module.integrity, size: module.size },
    extensions: (opts.extensions ?? []).map((e) => ({ fq: e.fq, version: e.version, module: e.module.digest })),
    fileTree: tree?.tree ?? null,
    filesSize: 0,
    contentDigest: module.integrity,
    createdAt: new Date().toISOString(),
  };
  return { record, written: [module.integrity, manifestBlob.integrity, ...(tree?.written ?? [])] };
}

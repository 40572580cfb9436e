import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApiClient } from '../../src/cli/api-client.js';
import { readAll } from '../../src/cli/api-client.js';
import { packComponentFiles } from '../../src/manifest/pack-files.js';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import type { ComponentVersionRecord, WorkerRecord } from '../../src/records.js';
import type { NodeContext } from '../../src/services/node-context.js';
import { getWorker } from '../../src/services/workers/get-worker.js';
import { loadWorkerView } from '../../src/services/workers/load-worker-view.js';
import { resolveWorkerPath, type ResolvedWorkerPath } from '../../src/services/workers/resolve-worker-path.js';
import { fixturePath } from '../support/temp-dir.js';

export interface ComponentFiles {
  /** Guest-relative path (`static/greeting.txt`) → contents; grouped into [[files]] by `modes`. */
  files?: Record<string, string>;
  /** Guest path (`/static/greeting.txt`) → permissions; every file needs one. */
  modes?: Record<string, 'read-only' | 'read-write'>;
  volumes?: { name: string; mount: string }[];
  limits?: { memory?: string; timeout?: string; disk?: string };
  wasm?: string;
}

/**
 * Writes a component dir (warren.toml + module + its files) and pushes it over HTTP. Each file
 * is its own [[files]] entry so every test picks the permissions file by file.
 */
export async function pushTestComponent(client: ApiClient, workDir: string, ns: string, name: string, version: string, spec: ComponentFiles = {}) {
  const dir = join(workDir, `${ns}.${name}@${version}`);
  mkdirSync(join(dir, 'build'), { recursive: true });
  cpSync(fixturePath(spec.wasm ?? 'worker_files.reactor.wasm'), join(dir, 'build', 'main.wasm'));
  const lines = [`name = "${name}"`, `namespace = "${ns}"`, `version = "${version}"`, 'binary = "build/main.wasm"', ''];
  for (const [rel, text] of Object.entries(spec.files ?? {})) {
    const src = join(dir, 'files', rel);
    mkdirSync(dirname(src), { recursive: true });
    writeFileSync(src, text);
    const target = `/${rel}`;
    lines.push('[[files]]', `source = "./files/${rel}"`, `target = "${target}"`, `permissions = "${spec.modes?.[target] ?? 'read-only'}"`, '');
  }
  for (const v of spec.volumes ?? []) lines.push('[[volumes]]', `name = "${v.name}"`, 'durable_dir = {}', `mount = "${v.mount}"`, '');
  // A generous default timeout: only a test about timeouts sets a short one.
  const limits = { memory: '16MiB', timeout: '10m', disk: '64MiB', ...spec.limits };
  lines.push('[limits]', `memory = "${limits.memory}"`, `timeout = "${limits.timeout}"`, `disk = "${limits.disk}"`, '');
  writeFileSync(join(dir, 'warren.toml'), lines.join('\n'));
  return pushDir(client, dir);
}

/**
 * Pushes a component dir over HTTP as one buffered multipart body (the manifest, the module and
 * the files zip packed by the CLI's packer). Buffered on purpose: the upload path under test
 * here is the server's, not the CLI's streaming body.
 */
export async function pushDir(client: ApiClient, dir: string): Promise<ComponentVersionRecord> {
  const manifestText = readFileSync(join(dir, 'warren.toml'), 'utf8');
  const manifest = parseManifest(manifestText);
  const packed = await packComponentFiles(dir, manifest);
  const boundary = `----wt${randomBytes(8).toString('hex')}`;
  const part = (name: string, body: Buffer, filename?: string) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\ncontent-type: application/octet-stream` : ''}\r\n\r\n`),
      body,
      Buffer.from('\r\n'),
    ]);
  const parts = [part('manifest', Buffer.from(manifestText)), part('module', readFileSync(join(dir, manifest.binary)), 'main.wasm')];
  if (packed.zipPath) {
    parts.push(part('files', readFileSync(packed.zipPath), 'files.zip'));
    rmSync(packed.zipPath, { force: true });
  }
  const body = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
  const res = await client.raw('POST', '/v1/components', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
  return JSON.parse((await readAll(res.body)).toString('utf8')) as ComponentVersionRecord;
}

export function createWorker(client: ApiClient, component: string, name: string, extra: Record<string, unknown> = {}): Promise<WorkerRecord> {
  return client.json<WorkerRecord>('POST', '/v1/workers', { component, name, ...extra });
}

export async function call(client: ApiClient, id: string, exportName: string, args: number[] = []): Promise<number> {
  const res = await client.json<{ returns: number[] }>('POST', `/v1/workers/${id}/invoke`, { export: exportName, args });
  return res.returns[0];
}

export async function fileText(client: ApiClient, id: string, path: string): Promise<string> {
  const res = await client.raw('GET', `/v1/workers/${id}/file-contents?${new URLSearchParams({ path })}`);
  return (await readAll(res.body)).toString('utf8');
}

export interface FileNode {
  name: string;
  path: string;
  kind: 'file' | 'directory';
  size: number;
  permissions: 'read-only' | 'read-write';
  lastModified: string;
}

export async function listFiles(client: ApiClient, id: string, path = '/', recursive = false): Promise<FileNode[]> {
  const q = new URLSearchParams({ path, recursive: String(recursive) });
  return (await client.json<{ nodes: FileNode[] }>('GET', `/v1/workers/${id}/files?${q}`)).nodes;
}

/** The WarrenError a promise fails with (the test fails if it does not). */
export async function failure(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: string; message: string; details: { status: number } };
    return { code: e.code, status: e.details?.status, message: e.message };
  }
  throw new Error('expected the call to fail');
}

/** wasi-libc errno values the guests return negated. */
export const ERRNO = { EROFS: 69, ENOSPC: 51, EPERM: 63, EACCES: 2, EBADF: 8 } as const;

/** The host file the file API (and the guest: same mounts) reads for `guestPath` of worker `id`. */
export async function hostFileOf(ctx: NodeContext, id: string, guestPath: string): Promise<ResolvedWorkerPath> {
  const view = await loadWorkerView(ctx, await getWorker(ctx, id));
  return resolveWorkerPath(view.mounts, guestPath);
}


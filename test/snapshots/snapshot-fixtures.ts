import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../../src/cli/api-client.js';
import type { ComponentVersionRecord, SnapshotRecord, WorkerRecord } from '../../src/records.js';
import { fixturePath } from '../support/temp-dir.js';
import { pushDir } from '../workers/worker-fixtures.js';

export interface SnapComponent {
  ns?: string;
  name: string;
  version?: string;
  onPause?: 'full' | 'data';
  onCommit?: 'full' | 'data';
  onCall?: 'none' | 'full' | 'data';
  wasm?: string;
  memory?: string;
  /** Per-call timeout; default 10m: no test of these fixtures is about it, and a loaded machine must not trip it. */
  timeout?: string;
  /** Read-write initial files: guest path → contents. */
  rwFiles?: Record<string, string>;
}

/** Pushes a component of a snapshot fixture with a durable dir at /data and the given scopes. */
export async function pushSnapComponent(client: ApiClient, workDir: string, spec: SnapComponent): Promise<ComponentVersionRecord> {
  const ns = spec.ns ?? 'sh.snap';
  const version = spec.version ?? '1.0.0';
  const dir = join(workDir, `${ns}.${spec.name}@${version}`);
  mkdirSync(join(dir, 'build'), { recursive: true });
  cpSync(fixturePath(spec.wasm ?? 'snap_counter.reactor.wasm'), join(dir, 'build', 'main.wasm'));
  const lines = [`name = "${spec.name}"`, `namespace = "${ns}"`, `version = "${version}"`, 'binary = "build/main.wasm"', ''];
  for (const [target, text] of Object.entries(spec.rwFiles ?? {})) {
    const src = join(dir, 'files', target.slice(1));
    mkdirSync(join(src, '..'), { recursive: true });
    writeFileSync(src, text);
    lines.push('[[files]]', `source = "./files${target}"`, `target = "${target}"`, 'permissions = "read-write"', '');
  }
  lines.push('[[volumes]]', 'name = "data"', 'durable_dir = {}', 'mount = "/data"', '');
  lines.push('[snapshots]', `on_pause = "${spec.onPause ?? 'full'}"`, `on_commit = "${spec.onCommit ?? spec.onPause ?? 'full'}"`, `on_call = "${spec.onCall ?? 'none'}"`, '');
  lines.push('[limits]', `memory = "${spec.memory ?? '16MiB'}"`, `timeout = "${spec.timeout ?? '10m'}"`, 'disk = "64MiB"', '');
  writeFileSync(join(dir, 'warren.toml'), lines.join('\n'));
  return pushDir(client, dir);
}

export interface PauseResponse {
  worker: WorkerRecord;
  snapshot: SnapshotRecord | null;
  stats: { pages: number; pagesWritten: number; pagesHashed: number; memoryBytesWritten: number; filesWritten: number; fileBytesWritten: number } | null;
  changed: boolean;
}

export interface CommitResponse {
  worker: WorkerRecord;
  snapshot: SnapshotRecord;
  stats: { pages: number; pagesWritten: number; pagesHashed: number; memoryBytesWritten: number; filesWritten: number; fileBytesWritten: number };
}

export const pause = (c: ApiClient, id: string) => c.json<PauseResponse>('POST', `/v1/workers/${id}/pause`);
export const commit = (c: ApiClient, id: string) => c.json<CommitResponse>('POST', `/v1/workers/${id}/commit`);
export const resume = (c: ApiClient, id: string) =>
  c.json<{ worker: WorkerRecord; resumed: boolean; how: string; snapshot: string | null }>('POST', `/v1/workers/${id}/resume`);
export const fork = (c: ApiClient, id: string, name: string, snapshot?: string) =>
  c.json<{ worker: WorkerRecord; snapshot: SnapshotRecord }>('POST', `/v1/workers/${id}/fork`, { name, ...(snapshot ? { snapshot } : {}) });
export const showWorker = (c: ApiClient, id: string) => c.json<WorkerRecord>('GET', `/v1/workers/${id}`);

/** Calls an export; returns its first value and whether the call resumed the worker. */
export async function invoke(c: ApiClient, id: string, exportName: string, args: number[] = []): Promise<{ value: number; resumedFrom: string | null; started: boolean }> {
  const res = await c.json<{ returns: number[]; resumedFrom: string | null; started: boolean }>('POST', `/v1/workers/${id}/invoke`, { export: exportName, args });
  return { value: res.returns[0]!, resumedFrom: res.resumedFrom, started: res.started };
}

export async function value(c: ApiClient, id: string, exportName: string, args: number[] = []): Promise<number> {
  return (await invoke(c, id, exportName, args)).value;
}

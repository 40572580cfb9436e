/**
 * The shapes of the small records the Registry holds, shared by every layer. Each record
 * names the blobs it keeps alive; GC marks from these (never from labels on blobs).
 */
import type { Integrity } from './ports/blobs.js';
import type { ComponentWorld } from './precompile/wit-types.js';

/** One file of a file tree. `path` is an absolute guest path (`/static/a.txt`). */
export interface FileTreeEntry {
  path: string;
  digest: Integrity;
  mode: 'ro' | 'rw';
  size: number;
}

/** A file tree blob holds `{version: 1, entries}` as JSON, entries sorted by path. */
export interface FileTree {
  version: 1;
  entries: FileTreeEntry[];
}

/** `component/<fq>/<version>` */
export interface ComponentVersionRecord {
  fq: string;
  namespace: string;
  name: string;
  version: string;
  /** The normalized manifest (defaults written out), as JSON. */
  manifest: Record<string, unknown>;
  /** Digest of the manifest JSON blob: equal digests = the same push (idempotent re-push). */
  manifestDigest: Integrity;
  module: { digest: Integrity; size: number };
  /** Extension components resolved at push: fq + version + module digest. */
  extensions: { fq: string; version: string; module: Integrity }[];
  /** Digest of the FileTree blob, or null when the component has no initial files. */
  fileTree: Integrity | null;
  /** Sum of the initial files' sizes. */
  filesSize: number;
  /** Hash over manifest, module and file tree: what "the same bytes" means for re-pushes. */
  contentDigest: string;
  createdAt: string;
  /** Present when the binary is a WebAssembly component (WASI 0.2): its WIT world, read at push. */
  world?: ComponentWorld;
}

export type WorkerStatus = 'idle' | 'running' | 'pausing' | 'paused' | 'resuming' | 'committing' | 'failed' | 'deleted';

/** `worker/<id>`; id = `<namespace>.<name>` of the worker is not used: ids are opaque (`w_<random>`). */
export interface WorkerRecord {
  id: string;
  name: string;
  namespace: string;
  component: string;
  version: string;
  node: string;
  status: WorkerStatus;
  env: Record<string, string>;
  args: string[];
  createdAt: string;
  updatedAt: string;
  /** Latest snapshot (pause or commit) to resume from, or null. */
  lastSnapshot: string | null;
  /** Latest committed snapshot, or null. */
  lastCommit: string | null;
  /**
   * FileTree of the root's writable files as the worker's last update left them: what a worker
   * without a snapshot of its version goes back to after a lost instance. Absent: the read-write
   * entries of its version's file tree (as placed at creation).
   */
  baseline?: Integrity | null;
  /**
   * Results of recent calls made with an idempotency key whose snapshot (`on_call`) made them
   * durable: written with the snapshot pointer, in one write, so a key is recorded exactly when
   * its call's effects are. Keys older than the window are dropped (idempotent-calls.ts).
   */
  calls?: Record<string, RecordedCall>;
  error?: { code: string; message: string };
}

/** What a call made with an idempotency key returned; a retry with the key gets it again. */
export interface RecordedCall {
  at: string;
  version: string;
  /** Values returned by the export (i64 as decimal strings). */
  returns?: (number | string)[];
  /** Exit code of `_start` (its stdout is not kept). */
  exitCode?: number;
  /** A component function's return value as JSON. */
  result?: unknown;
}

/**
 * A memory page map: page index → digest; zero pages are absent. 64 KiB pages. A snapshot's
 * changed pages are one **pack** blob (pages one after another); `at` says where each page lies:
 * [number of the pack in `packs`, page slot in that pack]. Pages unchanged since the snapshot the
 * map was diffed against point into that snapshot's packs. Maps written before packs (no
 * `packs`) name each page's own blob by its digest.
 */
export interface PageMap {
  pageSize: 65536;
  pages: number;
  digests: Record<string, Integrity>;
  packs?: Integrity[];
  at?: Record<string, [number, number]>;
}

/** The blobs a page map needs: its packs, or (maps from before packs) each page's own blob. */
export function pageMapBlobs(map: PageMap): Integrity[] {
  return map.packs ? [...map.packs] : [...new Set(Object.values(map.digests))];
}

/** `snapshot/<id>` */
export interface SnapshotRecord {
  id: string;
  worker: string;
  /** Component version the snapshot belongs to. */
  component: string;
  version: string;
  scope: 'full' | 'data';
  kind: 'pause' | 'commit';
  node: string;
  createdAt: string;
  /** Digest of the PageMap blob (full scope only). */
  memory: Integrity | null;
  /** Digest of a JSON blob with mutable globals + WASI state (full scope only). */
  state: Integrity | null;
  /** Digest of the FileTree blob of the snapshotted writable files (durable dirs for `data`). */
  files: Integrity | null;
}

/** `precompile/<engine-id>/<fq>/<version>`: the whole artifact DAG of one component version. */
export interface ArtifactMapRecord {
  engineId: string;
  fq: string;
  version: string;
  artifacts: ArtifactNode[];
  createdAt: string;
}

export interface ArtifactNode {
  /** The artifact blob. */
  digest: Integrity;
  /** `transform@version`, e.g. `export-globals@1`. */
  transform: string;
  /** Input digests (modules or other artifacts). */
  parents: Integrity[];
  size: number;
  /** What the runtime uses it for: `main` (the image to instantiate), `extension:<fq>`, `analysis`. */
  role: string;
}

/** `token/<jti>` */
export interface TokenRecord {
  jti: string;
  sub: string;
  role: 'admin' | 'project' | 'shared-reader' | 'node';
  namespaces: string[];
  issuedAt: string;
  expiresAt: string;
  revoked: boolean;
}

export const REGISTRY_PREFIX = {
  component: 'component/',
  worker: 'worker/',
  workerName: 'worker-name/',
  snapshot: 'snapshot/',
  precompile: 'precompile/',
  token: 'token/',
  node: 'node/',
} as const;

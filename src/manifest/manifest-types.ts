/**
 * The normalized manifest: every default written out, every path in its one clean spelling,
 * so no consumer guesses. This is what the registry stores (as JSON) for a component version.
 */
export interface Manifest {
  name: string;
  namespace: string;
  /** `namespace.name` */
  fq: string;
  /** Exact semver, written as `semver.valid` writes it. */
  version: string;
  /** Relative path of the main module inside the component dir, normalized, no `..`. */
  binary: string;
  description: string;
  /** Fq names of extension components. */
  required_extensions: string[];
  files: ManifestFile[];
  volumes: ManifestVolume[];
  snapshots: ManifestSnapshots;
  limits: ManifestLimits;
  env: Record<string, string>;
}

export type FilePermissions = 'read-only' | 'read-write';

export interface ManifestFile {
  /** Relative path inside the component dir (normalized, `.` = the dir itself) or an http(s) URL. */
  source: string;
  /** Clean absolute guest path. */
  target: string;
  permissions: FilePermissions;
}

export interface ManifestVolume {
  name: string;
  mount: string;
  /** The only volume kind; an empty table. */
  durable_dir: Record<string, never>;
}

export type SnapshotScope = 'full' | 'data';

export interface ManifestSnapshots {
  on_pause: SnapshotScope;
  /** Subset of on_pause; defaults to on_pause's value. */
  on_commit: SnapshotScope;
  /**
   * After every successful call, a snapshot of this scope is committed before the reply is sent
   * (`none`: calls since the last snapshot are lost with the instance).
   */
  on_call: 'none' | SnapshotScope;
  /** Parsed, but nothing pauses inside a host call yet (see docs/decisions.md: asyncify was dropped). */
  pause_in_call: boolean;
}

export interface ManifestLimits {
  /** Bytes of linear memory, ≤ 4 GiB (wasm32). */
  memory: number;
  /** Milliseconds per call. */
  timeout: number;
  /** Bytes of writable disk per worker. */
  disk: number;
}

export const DEFAULT_LIMITS: Readonly<ManifestLimits> = {
  memory: 256 * 2 ** 20,
  timeout: 30_000,
  disk: 2 ** 30,
};

export const MAX_MEMORY_BYTES = 4 * 2 ** 30;

/** One broken rule of a manifest; `path` names the field (`files[1].target`). */
export interface ManifestIssue {
  path: string;
  message: string;
  rule: string;
}

export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

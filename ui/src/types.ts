import type { ComponentWorld } from '../../src/precompile/wit-types';

/** The API's records as the console reads them (the server's JSON schemas are the reference). */
export interface Worker {
  id: string;
  name: string;
  namespace: string;
  component: string;
  version: string;
  node?: string;
  status: string;
  env?: Record<string, string>;
  args?: string[];
  createdAt: string;
  updatedAt?: string;
  lastSnapshot?: string | null;
  lastCommit?: string | null;
  error?: { code: string; message: string };
}

export interface ComponentSummary {
  fq: string;
  namespace: string;
  name: string;
  latest: string;
  versions: string[];
  description?: string;
}

export interface ComponentVersion {
  fq: string;
  namespace: string;
  name: string;
  version: string;
  manifest: Record<string, unknown>;
  manifestDigest: string;
  module: { digest: string; size: number };
  extensions?: { fq: string; version: string; module: string }[];
  fileTree: string | null;
  filesSize: number;
  createdAt: string;
  /** A WebAssembly component's WIT world (absent for core modules). */
  world?: ComponentWorld;
}

export interface FileNode {
  name: string;
  path: string;
  kind: 'file' | 'directory';
  size?: number;
  permissions?: 'read-only' | 'read-write';
  lastModified?: string;
}

export interface Snapshot {
  id: string;
  worker: string;
  component: string;
  version: string;
  scope: 'full' | 'data';
  kind: 'pause' | 'commit';
  node: string;
  createdAt: string;
}

export interface TokenRecord {
  jti: string;
  sub: string;
  role: string;
  namespaces: string[];
  issuedAt: string;
  expiresAt: string;
  revoked: boolean;
  status: 'active' | 'expired' | 'revoked';
}

export interface ClusterNode {
  id: string;
  url?: string;
  startedAt?: string;
  heartbeatAt?: string;
  heartbeatAgeMs?: number;
  alive: boolean;
  liveWorkers?: number;
  jobsRunning?: number;
  memory?: number;
  cacheBytes?: number;
  cacheBudgetBytes?: number;
}

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The data directory: `--data`/explicit value, then `$WARREN_HOME`, then `~/.warren`. */
export function resolveDataDir(explicit?: string): string {
  if (explicit) return resolve(explicit);
  if (process.env.WARREN_HOME) return resolve(process.env.WARREN_HOME);
  return join(homedir(), '.warren');
}

export interface DataLayout {
  root: string;
  store: string;
  registryDb: string;
  workers: string;
  staging: string;
  /** One shared tree per version file tree on this node (jobs' read-only files), by digest. */
  trees: string;
  /** Per-job scratch roots, gone when the job ends. */
  jobs: string;
  keyFile: string;
  adminToken: string;
}

export function dataLayout(dataDir: string): DataLayout {
  return {
    root: dataDir,
    store: join(dataDir, 'store'),
    registryDb: join(dataDir, 'registry.db'),
    workers: join(dataDir, 'workers'),
    staging: join(dataDir, 'staging'),
    trees: join(dataDir, 'trees'),
    jobs: join(dataDir, 'jobs'),
    keyFile: join(dataDir, 'server.key'),
    adminToken: join(dataDir, 'admin.token'),
  };
}

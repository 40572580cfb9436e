import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ApiClient } from './api-client.js';
import { dataLayout, resolveDataDir } from '../config.js';
import { resolveClientConfig } from './client-config.js';

export interface GlobalOptions {
  server?: string;
  token?: string;
  local?: boolean;
  data?: string;
  json?: boolean;
}

export interface Connection {
  client: ApiClient;
  close(): Promise<void>;
}

/**
 * The API a command talks to: a remote server (`--server`, `WARREN_SERVER`, config file), or
 * with `--local` an embedded node started in this process on 127.0.0.1 with a token minted
 * in-process, so every command has one code path (HTTP) whether local or remote.
 */
export async function connect(cmd: Command): Promise<Connection> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  if (g.local) {
    const { startLocalServer } = await import('./local-server.js');
    const local = await startLocalServer({ dataDir: g.data });
    return { client: new ApiClient({ server: local.url, token: local.token }), close: local.close };
  }
  const cfg = resolveClientConfig({ server: g.server, token: g.token });
  return { client: new ApiClient({ ...cfg, token: cfg.token ?? localAdminToken(cfg.server, g.data) }), close: async () => undefined };
}

/** Runs `fn` with a connection and always closes it (an embedded node shuts its threads down). */
export async function withConnection<T>(cmd: Command, fn: (client: ApiClient, g: GlobalOptions) => Promise<T>): Promise<T> {
  const conn = await connect(cmd);
  try {
    return await fn(conn.client, cmd.optsWithGlobals<GlobalOptions>());
  } finally {
    await conn.close();
  }
}

/**
 * With no token configured, a server on this machine can be reached with the admin token its
 * first start wrote to `<data>/admin.token` (readable only by its owner): the same trust as
 * reading the data directory itself.
 */
function localAdminToken(server: string, dataDir?: string): string | undefined {
  const host = new URL(server).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') return undefined;
  try {
    return readFileSync(dataLayout(resolveDataDir(dataDir)).adminToken, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
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
  return { client: new ApiClient(cfg), close: async () => undefined };
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

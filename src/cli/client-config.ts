import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'smol-toml';
import { WarrenError } from '../errors.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

export interface ClientConfig {
  server: string;
  token?: string;
}

/** What the client config file (clientConfigPath) may hold. */
export interface ClientConfigFile {
  server?: string;
  token?: string;
}

/**
 * `$WARREN_HOME/config.toml` when WARREN_HOME is set (one directory per Warren setup: its data,
 * its admin token and the CLI's login live together, and a second setup never overwrites the
 * first one's login), else `$XDG_CONFIG_HOME/warren/config.toml`, else `~/.config/warren/config.toml`.
 */
export function clientConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WARREN_HOME) return join(resolve(env.WARREN_HOME), 'config.toml');
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'warren', 'config.toml');
}

/**
 * Where the CLI talks to and with which token, each field on its own: explicit flags, then
 * `WARREN_SERVER` / `WARREN_TOKEN`, then the config file, then http://127.0.0.1:7070 (no token).
 */
export function resolveClientConfig(flags: { server?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const file = readClientConfigFile(clientConfigPath(env));
  const server = flags.server || env.WARREN_SERVER || file.server || DEFAULT_SERVER;
  const token = flags.token || env.WARREN_TOKEN || file.token || undefined;
  return token ? { server, token } : { server };
}

/** The config file's settings; an absent file is empty, an unreadable one an E_BAD_REQUEST naming it. */
export function readClientConfigFile(path: string): ClientConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let table: Record<string, unknown>;
  try {
    table = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new WarrenError('E_BAD_REQUEST', `${path} is not valid TOML: ${(err as Error).message}`, { path });
  }
  const out: ClientConfigFile = {};
  if (typeof table.server === 'string') out.server = table.server;
  if (typeof table.token === 'string') out.token = table.token;
  return out;
}

/**
 * Merges `settings` into the config file, keeping keys Warren does not know. The file holds a
 * token, so it is written 0600 (in a 0700 directory) by a rename, whatever mode it had before.
 */
export function writeClientConfig(settings: ClientConfigFile, path = clientConfigPath()): string {
  let existing: Record<string, unknown> = {};
  try {
    existing = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    existing = {};
  }
  const next: Record<string, unknown> = { ...existing };
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) next[k] = v;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, stringify(next) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import { TokenService } from '../../src/services/tokens/index.js';
import { makeTempDir } from '../support/temp-dir.js';

export interface TokenFixture {
  dataDir: string;
  registry: SqliteRegistry;
  tokens: TokenService;
  /** A second server key over the same registry: its tokens have records but the wrong signature. */
  otherServer(): Promise<TokenService>;
  close(): Promise<void>;
}

/** A token service on a real SQLite registry in a temp dir. */
export async function openTokenFixture(opts: { revocationCacheMs?: number } = {}): Promise<TokenFixture> {
  const tmp = makeTempDir('warren-auth-');
  const registry = new SqliteRegistry(`${tmp.path}/registry.db`);
  const tokens = await TokenService.open({ dataDir: tmp.path, registry, revocationCacheMs: opts.revocationCacheMs });
  const others: TokenService[] = [];
  return {
    dataDir: tmp.path,
    registry,
    tokens,
    async otherServer() {
      const other = makeTempDir('warren-auth-other-');
      const service = await TokenService.open({ dataDir: other.path, registry });
      others.push(service);
      return service;
    },
    async close() {
      for (const o of others) await o.close();
      await tokens.close();
      await registry.close();
      tmp.dispose();
    },
  };
}

/** The same token with one byte of its signed payload changed (still well-formed base64url). */
export function forge(token: string, byteIndex = 5): string {
  const prefix = 'v4.public.';
  const body = Buffer.from(token.slice(prefix.length), 'base64url');
  body[byteIndex] ^= 0x01;
  return prefix + body.toString('base64url');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

import { randomBytes } from 'node:crypto';
import type { PublicKey, SecretKey } from 'paseto/v4/public';
import { dataLayout } from '../../config.js';
import { WarrenError, isWarrenError } from '../../errors.js';
import type { Registry } from '../../ports/registry.js';
import { REGISTRY_PREFIX, type TokenRecord } from '../../records.js';
import { ensureDevAdminToken } from './dev-admin-token.js';
import { checkIssueRequest, type IssueTokenRequest } from './issue-request.js';
import { RevocationCache } from './revocation-cache.js';
import { openServerKey } from './server-key.js';
import { signToken, verifyTokenSignature } from './token-codec.js';
import type { Principal } from './token-role.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export interface IssuedToken {
  /** The PASETO v4.public token: shown once, never stored. */
  token: string;
  record: TokenRecord;
}

/**
 * Issues, verifies, lists and revokes the API's bearer tokens. A token is valid when it is signed
 * by this server's key, not expired, and its `token/<jti>` record exists and is not revoked.
 */
export class TokenService {
  private readonly verified = new VerifiedTokenCache();

  private constructor(
    private readonly registry: Registry,
    private readonly secretKey: SecretKey,
    private readonly publicKey: PublicKey,
    private readonly revocations: RevocationCache,
    private readonly dataDir: string,
    /** The key file was wider than 0600 at open and has been narrowed (callers may log it). */
    readonly keyModeFixed: boolean,
  ) {}

  /**
   * `revocationCacheMs` bounds how long a revocation written by another process (which fires no
   * watch event here) can go unnoticed; default 5 s.
   */
  static async open({ dataDir, registry, revocationCacheMs }: { dataDir: string; registry: Registry; revocationCacheMs?: number }): Promise<TokenService> {
    const key = await openServerKey(dataLayout(dataDir).keyFile);
    const revocations = await RevocationCache.open(registry, { ttlMs: revocationCacheMs });
    return new TokenService(registry, key.secretKey, key.publicKey, revocations, dataDir, key.modeFixed);
  }

  async issue(request: IssueTokenRequest): Promise<IssuedToken> {
    const req = checkIssueRequest(request);
    const now = Date.now();
    const record: TokenRecord = {
      jti: randomBytes(16).toString('hex'),
      sub: req.sub,
      role: req.role,
      namespaces: req.namespaces,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + req.ttlMs).toISOString(),
      revoked: false,
    };
    const token = await signToken(this.secretKey, {
      sub: record.sub,
      role: record.role,
      namespaces: record.namespaces,
      jti: record.jti,
      iat: record.issuedAt,
      exp: record.expiresAt,
    });
    await this.registry.compareAndSet(REGISTRY_PREFIX.token + record.jti, record, 0);
    return { token, record };
  }

  /**
   * The principal a bearer token speaks for. Throws E_UNAUTHORIZED (no token), E_TOKEN_INVALID,
   * E_TOKEN_EXPIRED or E_TOKEN_REVOKED (revoked, or no record: records are the allow-list).
   */
  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new WarrenError('E_UNAUTHORIZED', 'no token given: send Authorization: Bearer <token>');
    let principal: Principal;
    const hit = this.verified.get(token);
    if (hit) {
      if (Date.now() >= hit.expiresAtMs) {
        this.verified.delete(token);
        throw new WarrenError('E_TOKEN_EXPIRED', 'token has expired; ask an admin for a new one (warren token create)');
      }
      principal = hit.principal;
    } else {
      principal = Object.freeze(await verifyTokenSignature(this.publicKey, token));
      Object.freeze(principal.namespaces);
      this.verified.set(token, principal);
    }
    const state = await this.revocations.state(principal.jti);
    if (state !== 'active') {
      throw new WarrenError('E_TOKEN_REVOKED', state === 'revoked' ? 'token has been revoked' : 'token is not known to this server (revoked and removed)', {
        jti: principal.jti,
      });
    }
    return principal;
  }

  /** Every token record, newest first. Tokens themselves are never stored. */
  async list(): Promise<TokenRecord[]> {
    const entries = await this.registry.list<TokenRecord>(REGISTRY_PREFIX.token);
    return entries.map((e) => e.value).sort((a, b) => b.issuedAt.localeCompare(a.issuedAt) || a.jti.localeCompare(b.jti));
  }

  /** Marks a token revoked (idempotent). The record stays so `token ls` can show it. E_NOT_FOUND for unknown ids. */
  async revoke(jti: string): Promise<TokenRecord> {
    const key = REGISTRY_PREFIX.token + jti;
    for (;;) {
      const entry = await this.registry.get<TokenRecord>(key);
      if (!entry) throw new WarrenError('E_NOT_FOUND', `no token with id ${jti}`, { jti });
      if (entry.value.revoked) return entry.value;
      const record = { ...entry.value, revoked: true };
      try {
        await this.registry.compareAndSet(key, record, entry.revision);
        return record;
      } catch (err) {
        if (!isWarrenError(err, 'E_CONFLICT')) throw err;
      }
    }
  }

  /** Dev mode: an admin token in `<data>/admin.token` (0600), minted at first start. */
  async ensureDevAdminToken(): Promise<{ path: string; created: boolean }> {
    return ensureDevAdminToken(this, dataLayout(this.dataDir).adminToken);
  }

  async close(): Promise<void> {
    this.revocations.close();
  }
}

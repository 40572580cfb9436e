import type { Principal } from './token-role.js';

interface Entry {
  principal: Principal;
  expiresAtMs: number;
}

/**
 * Tokens whose signature has been checked, by their exact text: a token is immutable, so the
 * same string verifies the same way until it expires. Saves an Ed25519 verification (through
 * WebCrypto, the dearest step of an authenticated request) on every request of a client that reuses its token. Expiry and revocation
 * are still checked on every hit.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 1024) {}

  get(token: string): Entry | undefined {
    return this.entries.get(token);
  }

  set(token: string, principal: Principal): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, { principal, expiresAtMs: Date.parse(principal.expiresAt) });
  }

  delete(token: string): void {
    this.entries.delete(token);
  }
}

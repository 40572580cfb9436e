import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isWarrenError } from '../../errors.js';
import type { IssueTokenRequest } from './issue-request.js';
import { createPrivateFile, restrictToOwner } from './private-file.js';
import type { Principal } from './token-role.js';

export const DEV_ADMIN_TTL_MS = 365 * 86_400_000;

interface Tokens {
  issue(req: IssueTokenRequest): Promise<{ token: string }>;
  verify(token: string): Promise<Principal>;
}

/**
 * Dev mode's first-start admin token. An existing file is kept (mode narrowed to 0600) while its
 * token still works or was revoked on purpose; one that expired or was signed by a previous key
 * (the data dir's server.key was replaced) is replaced, so `warren serve --dev` keeps working.
 */
export async function ensureDevAdminToken(tokens: Tokens, file: string): Promise<{ path: string; created: boolean }> {
  if (existsSync(file)) {
    restrictToOwner(file);
    try {
      await tokens.verify(readFileSync(file, 'utf8').trim());
      return { path: file, created: false };
    } catch (err) {
      if (!isWarrenError(err) || err.code === 'E_TOKEN_REVOKED') return { path: file, created: false };
    }
    const { token } = await tokens.issue({ sub: 'dev-admin', role: 'admin', ttlMs: DEV_ADMIN_TTL_MS });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, token + '\n', { mode: 0o600 });
    renameSync(tmp, file);
    return { path: file, created: true };
  }
  const { token } = await tokens.issue({ sub: 'dev-admin', role: 'admin', ttlMs: DEV_ADMIN_TTL_MS });
  return { path: file, created: createPrivateFile(file, token + '\n') };
}

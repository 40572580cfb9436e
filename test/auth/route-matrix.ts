import type { FastifyInstance } from 'fastify';
import type { RouteRole } from '../../src/api/auth/index.js';
import type { TokenRole, TokenService } from '../../src/services/tokens/index.js';
import { forge, sleep } from './token-fixtures.js';

/**
 * The role × token matrix, written against a list of routes so it can be pointed at the real
 * API once its routes exist: give it `{method, url, role, namespace?}` cases and a way to send.
 */
export interface RouteCase {
  method: string;
  url: string;
  role: RouteRole;
  /** The namespace the route acts on (checked with authorizeNamespace). */
  namespace?: string;
  /**
   * Another namespace's things: `true` = hidden as 404, `false`/absent = 403, `'either'` = 403 or
   * 404 (a case derived from a route table, which does not say which the route chose).
   */
  hideAs404?: boolean | 'either';
  /** The status of a call that passes auth; absent = anything but 401/403. */
  okStatus?: number;
  body?: string;
  headers?: Record<string, string>;
}

export const CREDENTIALS = ['admin', 'projectA', 'projectB', 'sharedReader', 'node'] as const;
export type Credential = (typeof CREDENTIALS)[number];
export const VARIANTS = ['valid', 'expired', 'forged', 'wrongKey', 'revoked', 'missing'] as const;
export type TokenVariant = (typeof VARIANTS)[number];

export type MatrixTokens = Record<Credential, Record<TokenVariant, string | undefined>>;

/**
 * Who may call a route of each role, written out from DESIGN.md "Auth" and issue 7 on purpose
 * rather than imported from the implementation, so a wrong table there fails here.
 */
const MAY_CALL: Record<Exclude<RouteRole, 'public'>, readonly Credential[]> = {
  admin: ['admin'],
  dev: ['admin'],
  node: ['admin', 'node'],
  project: ['admin', 'projectA', 'projectB', 'node'],
  'shared-reader': ['admin', 'projectA', 'projectB', 'sharedReader', 'node'],
  'store-reader': ['admin', 'sharedReader', 'node'],
  metrics: ['admin', 'sharedReader', 'node'],
};

const ROLE_OF: Record<Credential, TokenRole> = { admin: 'admin', projectA: 'project', projectB: 'project', sharedReader: 'shared-reader', node: 'node' };

/**
 * Every credential in every variant: valid, expired, forged (a payload byte flipped), signed by
 * another server's key (`otherServer`, same registry), revoked, and missing.
 */
export async function issueMatrixTokens(tokens: TokenService, otherServer: TokenService, nsA: string, nsB: string): Promise<MatrixTokens> {
  const out = {} as MatrixTokens;
  for (const who of CREDENTIALS) {
    const role = ROLE_OF[who];
    const namespaces = who === 'projectA' ? [nsA] : who === 'projectB' ? [nsB] : [];
    const req = { sub: `matrix-${who}`, role, namespaces };
    const valid = (await tokens.issue({ ...req, ttlMs: 3600_000 })).token;
    const expired = (await tokens.issue({ ...req, ttlMs: 1 })).token;
    const wrongKey = (await otherServer.issue({ ...req, ttlMs: 3600_000 })).token;
    const revoked = await tokens.issue({ ...req, ttlMs: 3600_000 });
    await tokens.revoke(revoked.record.jti);
    out[who] = { valid, expired, forged: forge(valid), wrongKey, revoked: revoked.token, missing: undefined };
  }
  await sleep(20); // the 1 ms tokens are now past their exp (PASETO v4 exp has ms precision)
  return out;
}

export interface Expected {
  /** `pass` = auth let the call through; `403|404` = either, with the matching code. */
  status: 'pass' | 401 | 403 | 404 | '403|404';
  code?: string;
}

export function expectedOutcome(c: RouteCase, who: Credential, variant: TokenVariant, scopes: { nsA: string; nsB: string }): Expected {
  if (c.role === 'public') return { status: 'pass' };
  switch (variant) {
    case 'missing':
      return { status: 401, code: 'E_UNAUTHORIZED' };
    case 'expired':
      return { status: 401, code: 'E_TOKEN_EXPIRED' };
    case 'forged':
    case 'wrongKey':
      return { status: 401, code: 'E_TOKEN_INVALID' };
    case 'revoked':
      return { status: 401, code: 'E_TOKEN_REVOKED' };
    case 'valid':
      break;
  }
  if (!MAY_CALL[c.role].includes(who)) return { status: 403, code: 'E_FORBIDDEN' };
  if (c.namespace !== undefined && ROLE_OF[who] === 'project') {
    const own = who === 'projectA' ? scopes.nsA : scopes.nsB;
    if (c.namespace !== own) {
      if (c.hideAs404 === 'either') return { status: '403|404' };
      return c.hideAs404 ? { status: 404, code: 'E_NOT_FOUND' } : { status: 403, code: 'E_FORBIDDEN' };
    }
  }
  return { status: 'pass' };
}

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export type SendRequest = (req: SentRequest) => Promise<{ status: number; body: string }>;

/** Sends through fastify.inject (no sockets: fast enough for thousands of cases). */
export function injectSender(app: FastifyInstance): SendRequest {
  return async (req) => {
    const res = await app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.body });
    return { status: res.statusCode, body: res.body };
  };
}

/** Runs every case × credential × variant; returns a readable line per mismatch (empty = all good). */
export async function runRouteMatrix(opts: {
  send: SendRequest;
  tokens: MatrixTokens;
  cases: RouteCase[];
  nsA: string;
  nsB: string;
}): Promise<{ checked: number; failures: string[] }> {
  const failures: string[] = [];
  let checked = 0;
  for (const c of opts.cases) {
    for (const who of CREDENTIALS) {
      for (const variant of VARIANTS) {
        const token = opts.tokens[who][variant];
        const headers: Record<string, string> = { ...(c.headers ?? {}) };
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
        const res = await opts.send({ method: c.method, url: c.url, headers, body: c.body });
        const want = expectedOutcome(c, who, variant, opts);
        checked++;
        const problem = mismatch(want, res, c);
        if (problem) failures.push(`${c.method} ${c.url} [${c.role}] as ${who}/${variant}: ${problem}`);
      }
    }
  }
  return { checked, failures };
}

function mismatch(want: Expected, res: { status: number; body: string }, c: RouteCase): string | null {
  if (want.status === 'pass') {
    if (res.status === 401 || res.status === 403) return `expected to pass auth, got ${res.status} ${res.body.slice(0, 160)}`;
    if (c.okStatus !== undefined && res.status !== c.okStatus) return `expected ${c.okStatus}, got ${res.status} ${res.body.slice(0, 160)}`;
    return null;
  }
  if (want.status === '403|404') return res.status === 403 || res.status === 404 ? null : `expected 403 or 404, got ${res.status} ${res.body.slice(0, 160)}`;
  if (res.status !== want.status) return `expected ${want.status} ${want.code}, got ${res.status} ${res.body.slice(0, 160)}`;
  if (c.method === 'HEAD') return null; // no body to read the code from
  let code: unknown;
  try {
    code = (JSON.parse(res.body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  return code === want.code ? null : `expected code ${want.code}, got ${String(code)}`;
}

/** Example values for path parameters, so a route table can be turned into requests. */
export const EXAMPLE_PARAMS: Record<string, string> = {
  fq: 'NS.thing',
  version: '1.0.0',
  id: 'w_doesnotexist',
  integrity: 'sha256-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=',
  jti: '0123456789abcdef0123456789abcdef',
  name: 'thing',
};

/**
 * Cases for every declared route of an app (see declaredRoutes): path parameters get example
 * values; a route with `:fq` acts on namespace `ns` (so project tokens of another namespace must
 * get 403 or 404). Routes whose outcome depends on a stored record (worker ids) just need to
 * let allowed roles through.
 */
export function casesFromRoutes(routes: { method: string; url: string; role: RouteRole | undefined }[], ns: string): RouteCase[] {
  const cases: RouteCase[] = [];
  for (const r of routes) {
    if (r.role === undefined) throw new Error(`${r.method} ${r.url} declares no role`);
    if (r.url.includes('*')) continue;
    let namespace: string | undefined;
    const url = r.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
      if (name === 'fq') namespace = ns;
      return (EXAMPLE_PARAMS[name] ?? 'x').replace('NS', ns);
    });
    cases.push({ method: r.method, url, role: r.role, namespace, hideAs404: 'either' });
  }
  return cases;
}

/**
 * The console's one way to the API: same-origin fetches carrying the session cookie, the
 * session's CSRF secret on writes, and every error as the API's own code and message.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Principal {
  sub: string;
  role: 'admin' | 'project' | 'shared-reader' | 'node';
  namespaces: string[];
  jti: string;
  expiresAt: string;
}

export interface Session {
  principal: Principal;
  csrf: string;
  expiresAt: string;
}

export type SessionState = ({ loggedIn: true } & Session) | { loggedIn: false; ended?: { code: string; message: string } };

let csrf: string | undefined;
let onSessionEnded: () => void = () => undefined;

export function useSession(session: Session | undefined, ended: () => void): void {
  csrf = session?.csrf;
  onSessionEnded = ended;
}

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  query?: Record<string, string | string[] | undefined>;
}

export function withQuery(path: string, query: RequestOptions['query'] = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers = new Headers(opts.headers);
  let body = opts.body;
  if (opts.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(opts.json);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers.set('x-warren-csrf', csrf);
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), { method, headers, body, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError('E_UNAVAILABLE', `cannot reach the Warren node: ${(err as Error).message}`, 0);
  }
  if (res.ok) return res;
  const error = await errorOf(res);
  if (res.status === 401 && !path.startsWith('/ui/')) onSessionEnded();
  throw error;
}

export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await request(method, path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (parsed.error?.code) return new ApiError(parsed.error.code, parsed.error.message ?? '', res.status);
  } catch {
    // not the API's JSON error: fall through
  }
  return new ApiError(`HTTP_${res.status}`, text.slice(0, 300) || res.statusText, res.status);
}

export function toApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError('E_CONSOLE', (err as Error)?.message ?? String(err), 0);
}

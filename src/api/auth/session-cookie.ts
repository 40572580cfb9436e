import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { WarrenError } from '../../errors.js';
import './fastify-augment.js';

/** The console's session cookie: HttpOnly, SameSite=Strict, the whole origin (the console calls /v1 and /metrics). */
export const SESSION_COOKIE = 'warren_session';
/** The header a cookie-authenticated write must carry, holding the session's CSRF secret. */
export const CSRF_HEADER = 'x-warren-csrf';

const SESSION_MS = 12 * 3600_000;
const TICKET_MS = 5 * 60_000;
/** Bounds memory against a client minting sessions or links in a loop: the oldest go first. */
const MAX_ENTRIES = 10_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface Session {
  token: string;
  csrf: string;
  expiresAt: number;
}

interface Ticket {
  token: string;
  expiresAt: number;
}

/**
 * The console's sessions and one-time login links, in this process' memory: a session is the
 * API token it was opened with, so every request still goes through token verification (a
 * revoked or expired token ends the session) and the token's role and namespaces, never
 * anything the console decides. A restart logs everyone out, which is the safe direction.
 */
export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A session for `token` (already verified by the caller), ending with it or in 12 h. */
  open(token: string, tokenExpiresAt: string): { id: string; csrf: string; expiresAt: number } {
    const id = secret();
    const csrf = secret();
    const expiresAt = Math.min(this.now() + SESSION_MS, Date.parse(tokenExpiresAt));
    bounded(this.sessions).set(id, { token, csrf, expiresAt });
    return { id, csrf, expiresAt };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (session && session.expiresAt <= this.now()) this.sessions.delete(id);
    return session && session.expiresAt > this.now() ? session : undefined;
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** A one-time login link's secret, good for 5 minutes, standing for `token`. */
  mintTicket(token: string): { ticket: string; expiresAt: number } {
    const ticket = secret();
    const expiresAt = this.now() + TICKET_MS;
    bounded(this.tickets).set(ticket, { token, expiresAt });
    return { ticket, expiresAt };
  }

  /** The token a ticket stands for, once: the ticket is gone whether or not it was still good. */
  redeemTicket(ticket: string): string | undefined {
    const found = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return found && found.expiresAt > this.now() ? found.token : undefined;
  }
}

function secret(): string {
  return randomBytes(32).toString('base64url');
}

function bounded<V>(map: Map<string, V>): Map<string, V> {
  while (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string);
  return map;
}

export function sessionIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header ? parseCookies(header)[SESSION_COOKIE] : undefined;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string, expiresAt: number): void {
  const cookie = serializeCookie(SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: request.protocol === 'https',
    maxAge: Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)),
  });
  void reply.header('set-cookie', cookie);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const cookie = serializeCookie(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https', maxAge: 0 });
  void reply.header('set-cookie', cookie);
}

/** E_FORBIDDEN unless a write carries the session's CSRF secret (reads pass). */
export function checkCsrf(request: FastifyRequest, session: Session): void {
  if (SAFE_METHODS.has(request.method)) return;
  const sent = request.headers[CSRF_HEADER];
  const a = Buffer.from(typeof sent === 'string' ? sent : '');
  const b = Buffer.from(session.csrf);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new WarrenError('E_FORBIDDEN', `a write from a console session needs the session's ${CSRF_HEADER} header`, { csrf: true });
  }
}

/**
 * Lets a console session stand in for a bearer token. Call on the root instance before
 * registerAuth: this onRequest hook runs first and, for a non-public route called without an
 * Authorization header but with the session cookie, checks the CSRF header on writes and puts
 * the session's token in the Authorization header. From there the request is a bearer request
 * like any other: registerAuth verifies the token and checks the route's role, routes check
 * namespaces, and cluster forwarding passes the header on. A bearer header wins over a cookie.
 * SameSite=Strict already keeps the cookie off cross-site requests; the CSRF header is the
 * second lock (a cross-origin page can neither read the secret nor send the header without CORS,
 * which this API does not grant).
 */
export async function registerSessionCookies(app: FastifyInstance, { sessions }: { sessions: ConsoleSessions }): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (request.is404 || request.routeOptions.config.role === 'public') return;
    if (request.headers.authorization !== undefined) return;
    const id = sessionIdOf(request);
    if (id === undefined) return;
    const session = sessions.get(id);
    if (!session) throw new WarrenError('E_UNAUTHORIZED', 'the console session has ended: log in again');
    checkCsrf(request, session);
    request.headers.authorization = `Bearer ${session.token}`;
  });
}

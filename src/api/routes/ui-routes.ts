import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { WarrenError, isWarrenError } from '../../errors.js';
import { MAX_TOKEN_CHARS, type Principal, type TokenService } from '../../services/tokens/index.js';
import { bearerTokenOf } from '../auth/bearer-token.js';
import { requirePrincipal } from '../auth/authorize-namespace.js';
import { checkCsrf, clearSessionCookie, sessionIdOf, setSessionCookie, type ConsoleSessions } from '../auth/session-cookie.js';
import { principalSchema } from '../auth/token-schemas.js';
import { errorResponses } from './schemas.js';
import type { SchemaTypes } from '../schema-types.js';

export interface UiRoutesOptions {
  tokens: Pick<TokenService, 'verify'>;
  sessions: ConsoleSessions;
  /** Where the built console is (default: dist/ui, written by `npm run build`). */
  uiDir?: string;
}

/** The console's own files, built by Vite into dist/ui beside dist/src. */
export const DEFAULT_UI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'ui');

// The console loads nothing from elsewhere and is never framed; inline styles are uPlot's.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const sessionSchema = {
  type: 'object',
  required: ['principal', 'csrf', 'expiresAt'],
  properties: { principal: principalSchema, csrf: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
} as const;

/** `GET /ui/session`: the session, or why there is none (it never answers 401: the page asks before logging in). */
const sessionStateSchema = {
  type: 'object',
  required: ['loggedIn'],
  properties: {
    loggedIn: { type: 'boolean' },
    ...sessionSchema.properties,
    ended: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/**
 * `/ui`: the web console (a single-page app; its data comes from the API like any client's),
 * its login by one-time link or pasted token, and `POST /v1/console/links`, which `warren
 * console` calls for the link. The pages are public; data is not: every /v1 call the console
 * makes is authorized from its session cookie by registerSessionCookies.
 */
export async function uiRoutes(fastify: FastifyInstance, opts: UiRoutesOptions): Promise<void> {
  // Handlers read params, query and body as their schemas type them (no casts).
  const app = fastify.withTypeProvider<SchemaTypes>();
  const { tokens, sessions } = opts;
  const root = opts.uiDir ?? DEFAULT_UI_DIR;
  await app.register(fastifyStatic, { root, serve: false });

  app.get('/ui', { config: { role: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/', 302));

  app.get(
    '/ui/*',
    { config: { role: 'public' }, schema: { hide: true, params: { type: 'object', required: ['*'], properties: { '*': { type: 'string' } } } } },
    async (request, reply) => sendUiFile(root, request.params['*'], reply),
  );

  app.get(
    '/ui/login',
    { config: { role: 'public' }, schema: { hide: true, querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 200 }, error: { type: 'string' } } } } },
    async (request, reply) => {
      const { token: ticket } = request.query;
      if (ticket === undefined) return sendUiFile(root, 'index.html', reply);
      void reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
      const token = sessions.redeemTicket(ticket);
      if (token === undefined) return reply.redirect('/ui/login?error=E_TOKEN_INVALID', 303);
      try {
        const principal = await tokens.verify(token);
        const session = sessions.open(token, principal.expiresAt);
        setSessionCookie(request, reply, session.id, session.expiresAt);
        return reply.redirect('/ui/', 303);
      } catch (err) {
        if (!isWarrenError(err)) throw err;
        return reply.redirect(`/ui/login?error=${encodeURIComponent(err.code)}`, 303);
      }
    },
  );

  app.get(
    '/ui/session',
    { config: { role: 'public' }, schema: { summary: "The console session's principal and CSRF secret", tags: ['console'], response: { 200: sessionStateSchema, ...errorResponses } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const id = sessionIdOf(request);
      const session = sessions.get(id);
      if (!session) return { loggedIn: false };
      let principal: Principal;
      try {
        principal = await tokens.verify(session.token);
      } catch (err) {
        if (!isWarrenError(err)) throw err;
        sessions.close(id); // the token was revoked or expired: so is the session
        clearSessionCookie(request, reply);
        return { loggedIn: false, ended: { code: err.code, message: err.message } };
      }
      return { loggedIn: true, principal, csrf: session.csrf, expiresAt: new Date(session.expiresAt).toISOString() };
    },
  );

  app.post(
    '/ui/session',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Log in to the console with a pasted token: sets the session cookie',
        tags: ['console'],
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_CHARS } } },
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // JSON only (the body schema needs an object): a cross-site form cannot post JSON without a CORS preflight.
      const token = request.body.token.trim();
      const principal = await tokens.verify(token);
      const session = sessions.open(token, principal.expiresAt);
      setSessionCookie(request, reply, session.id, session.expiresAt);
      void reply.header('cache-control', 'no-store');
      return { principal, csrf: session.csrf, expiresAt: new Date(session.expiresAt).toISOString() };
    },
  );

  app.delete(
    '/ui/session',
    { config: { role: 'public' }, schema: { summary: 'Log out of the console', tags: ['console'], response: { 204: { type: 'null', description: 'logged out; the cookie is cleared' }, ...errorResponses } } },
    async (request, reply) => {
      const id = sessionIdOf(request);
      const session = sessions.get(id);
      if (session) checkCsrf(request, session);
      sessions.close(id);
      clearSessionCookie(request, reply);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/console/links',
    {
      config: { role: 'shared-reader' },
      schema: {
        summary: "A one-time console login link for the caller's token, good for 5 minutes",
        tags: ['console'],
        response: {
          201: { type: 'object', required: ['path', 'expiresAt'], properties: { path: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      requirePrincipal(request);
      const token = bearerTokenOf(request.headers.authorization);
      if (token === undefined) throw new WarrenError('E_UNAUTHORIZED', 'a console link needs a bearer token');
      const { ticket, expiresAt } = sessions.mintTicket(token);
      return reply.status(201).send({ path: `/ui/login?token=${ticket}`, expiresAt: new Date(expiresAt).toISOString() });
    },
  );
}

/**
 * A built file of the console, else its index.html for the app's own routes (/ui/workers/…,
 * /ui/components/sh.warren.counter). A missing asset (under assets/) is a plain 404, not the page.
 */
async function sendUiFile(root: string, rest: string, reply: FastifyReply): Promise<FastifyReply> {
  const rel = normalize(rest || 'index.html');
  if (rel.startsWith('..') || rel.includes(`${sep}..`)) throw new WarrenError('E_NOT_FOUND', 'no such console file');
  const full = join(root, rel);
  const isFile = existsSync(full) && statSync(full).isFile();
  if (!isFile && rel.startsWith(`assets${sep}`)) throw new WarrenError('E_NOT_FOUND', `no console file ${rest}`);
  if (!existsSync(join(root, 'index.html'))) throw new WarrenError('E_NOT_FOUND', 'the console is not built: run `npm run build`');
  void reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY');
  if (isFile && rel.startsWith(`assets${sep}`)) return reply.sendFile(rel, { maxAge: '365d', immutable: true });
  return reply.header('cache-control', 'no-cache').sendFile(isFile ? rel : 'index.html', { cacheControl: false });
}


import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BusPayload } from '../../ports/bus.js';

/**
 * HTTP over the bus: a request one node received, replayed on another with `app.inject`.
 * Bodies travel as binary (base64 on NATS), so a forwarded request or answer is bounded by
 * NATS' max_payload (1 MiB by default): see ClusterOptions.forwardBodyLimitBytes.
 */
export interface ForwardedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The worker the request is for: the target refuses it when the worker is not its own. */
  workerId?: string;
  origin: string;
}

export interface ForwardedReply {
  status: number;
  /** The node that ran it (the `x-warren-node` response header). */
  servedBy: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** `warren.node.<id>.http`: the subject a node serves forwarded requests on. */
export function nodeHttpSubject(nodeId: string): string {
  return `warren.node.${nodeId}.http`;
}

/** The job queue group: any member runs a job sent here. */
export const JOBS_SUBJECT = 'warren.jobs.run';
export const JOBS_QUEUE = 'warren.jobs';

/**
 * Marks a replayed request so this node serves it itself. Its value is a secret of this process:
 * a client cannot send it to skip routing (only this process' inject calls carry it).
 */
export const FORWARDED_HEADER = 'x-warren-forwarded';
export const forwardSecret = randomBytes(18).toString('base64url');

export function isForwarded(request: FastifyRequest): boolean {
  return request.headers[FORWARDED_HEADER] === forwardSecret;
}

const FORWARD_HEADERS = ['authorization', 'content-type', 'accept'] as const;
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'trailer']);

/** The body as the route received it: raw bytes (invoke, jobs), or JSON again (create, update). */
export function requestBodyBytes(request: FastifyRequest): Buffer {
  const body = request.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.from(JSON.stringify(body));
}

export function toForwardedRequest(request: FastifyRequest, origin: string, body: Buffer, workerId?: string): ForwardedRequest {
  const headers: Record<string, string> = {};
  for (const h of FORWARD_HEADERS) {
    const v = request.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  if (body.length > 0 && !headers['content-type'] && request.body !== undefined && !Buffer.isBuffer(request.body)) headers['content-type'] = 'application/json';
  return { method: request.method, url: request.url, headers, body, origin, ...(workerId ? { workerId } : {}) };
}

export function replyHeaders(headers: Record<string, string | string[] | number | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k.toLowerCase())) continue;
    out[k] = typeof v === 'number' ? String(v) : v;
  }
  return out;
}

/** Sends an answer that came back over the bus as this request's answer. */
export function sendForwardedReply(reply: FastifyReply, answer: BusPayload): FastifyReply {
  const status = typeof answer.status === 'number' ? answer.status : 502;
  const headers = (answer.headers ?? {}) as Record<string, string | string[]>;
  const body = Buffer.isBuffer(answer.body) ? answer.body : Buffer.alloc(0);
  void reply.code(status).headers(headers);
  if (typeof answer.servedBy === 'string') void reply.header('x-warren-node', answer.servedBy);
  return reply.send(body);
}

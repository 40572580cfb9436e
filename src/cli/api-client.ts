import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { WarrenError, type ErrorCode } from '../errors.js';

export interface ApiClientOptions {
  server: string;
  token?: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** Available after the body has been consumed. */
  trailers: () => IncomingMessage['trailers'];
  body: IncomingMessage;
}

/**
 * The CLI's HTTP client for Warren's API. node:http rather than fetch because job output
 * arrives with HTTP trailers (exit code, stderr) that fetch does not expose.
 */
export class ApiClient {
  constructor(readonly opts: ApiClientOptions) {}

  /** A request whose non-2xx answer is thrown as the server's WarrenError. */
  async raw(method: string, path: string, body?: Buffer | Readable | string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const url = new URL(path, this.opts.server);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const allHeaders: Record<string, string> = { ...headers };
    if (this.opts.token) allHeaders.authorization = `Bearer ${this.opts.token}`;
    if (typeof body === 'string' || Buffer.isBuffer(body)) allHeaders['content-length'] = String(Buffer.byteLength(body));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, { method, headers: allHeaders }, resolve);
      req.on('error', (err) =>
        reject(new WarrenError('E_UNAVAILABLE', `cannot reach the Warren server at ${this.opts.server}: ${err.message} (start one with \`warren serve\`, or use --local)`)),
      );
      if (body instanceof Readable) {
        // pipe() forwards no errors: a body that fails (its file removed after the server went
        // away) would throw an uncaught 'error', and a failed request would leave the body open.
        body.once('error', (err) => req.destroy(err));
        req.once('error', () => body.destroy());
        body.pipe(req);
      }
      else req.end(body);
    });
    if (res.statusCode === undefined || res.statusCode >= 400) {
      const err = await errorFrom(res);
      // The server's words are for HTTP callers; the CLI's user sets a token another way.
      if (!this.opts.token && err.code === 'E_UNAUTHORIZED') {
        throw new WarrenError('E_UNAUTHORIZED', `${this.opts.server} needs a token: set WARREN_TOKEN, pass --token, or run \`warren login\` (a server on this machine: the admin.token in its data dir, $WARREN_HOME or ~/.warren, is used when readable)`, err.details);
      }
      throw err;
    }
    return { status: res.statusCode, headers: res.headers, trailers: () => res.trailers, body: res };
  }

  async json<T>(method: string, path: string, payload?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const res = await this.raw(method, path, body, body ? { 'content-type': 'application/json', ...headers } : headers);
    const text = await readAll(res.body);
    return (text.length ? JSON.parse(text.toString('utf8')) : {}) as T;
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function errorFrom(res: IncomingMessage): Promise<WarrenError> {
  const text = (await readAll(res)).toString('utf8');
  try {
    const { error } = JSON.parse(text) as { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };
    return new WarrenError(error.code, error.message, { ...(error.details ?? {}), status: res.statusCode });
  } catch {
    return new WarrenError(res.statusCode === 404 ? 'E_NOT_FOUND' : 'E_INTERNAL', `HTTP ${res.statusCode}: ${text.slice(0, 200)}`, { status: res.statusCode });
  }
}

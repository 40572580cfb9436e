import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WarrenError } from '../errors.js';

type ErrorBody = { error: ReturnType<WarrenError['toJSON']> };

/**
 * Host paths never reach a client: an error that names a file under the data dir, the install,
 * the home or temp dir (a system error's message does: `ENAMETOOLONG ... '/srv/warren/store/...'`)
 * has those prefixes replaced by `<data>` or `<host>`. Guest paths (`/state/count.txt`) are not
 * under any of them and stay as they are.
 */
export class HostPathRedactor {
  private readonly prefixes: [string, string][];

  constructor(dataDir: string) {
    const install = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const hosts = [install, homedir(), tmpdir(), process.cwd()].filter((p) => p.length > 1);
    // Longest first, so the data dir (often under a home or temp dir) is named as such.
    this.prefixes = [[resolve(dataDir), '<data>'] as [string, string], ...hosts.map((p): [string, string] => [p, '<host>'])].sort((a, b) => b[0].length - a[0].length);
  }

  text(s: string): string {
    let out = s;
    for (const [prefix, name] of this.prefixes) if (out.includes(prefix)) out = out.split(prefix).join(name);
    return out;
  }

  body(err: WarrenError): ErrorBody {
    const json = err.toJSON();
    return { error: { code: json.code, message: this.text(json.message), details: this.value(json.details) as Record<string, unknown> } };
  }

  private value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x)]));
    return v;
  }
}

/**
 * Node answers a request it cannot parse (headers over 16 KiB: 431, a malformed request line:
 * 400, too slow: 408) before Fastify sees it; this is Fastify's clientErrorHandler writing that
 * answer in Warren's error shape rather than Node's (Fastify's default, less the shape).
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'E_HEADERS_TOO_LARGE', 'request headers are larger than the server accepts (16 KiB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'E_TIMEOUT', 'the request took too long to arrive']
        : [400, 'E_BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message, details: {} } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

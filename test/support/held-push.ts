import { request, type ClientRequest } from 'node:http';
import { randomBytes } from 'node:crypto';

export interface HeldResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A `POST /v1/components` whose body is sent part by part and never finished unless `end` is
 * called: what the server answers while the body is still open is what it decided from the
 * parts it had (a server that waits for the whole body never answers).
 */
export class HeldPush {
  /** Every push not yet aborted: a failed test leaves none open to hold its server's close. */
  private static readonly open = new Set<HeldPush>();
  readonly boundary = `----held${randomBytes(8).toString('hex')}`;
  readonly response: Promise<HeldResponse>;
  private readonly req: ClientRequest;

  constructor(url: string, token: string, query = '') {
    this.req = request(`${url}/v1/components${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${this.boundary}` },
    });
    this.response = new Promise((resolve, reject) => {
      this.req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
        res.once('error', reject);
      });
      // Once the server has answered, it may drop the rest of the upload: that is no failure here.
      this.req.on('error', reject);
    });
    this.response.catch(() => undefined);
    this.req.flushHeaders();
    HeldPush.open.add(this);
  }

  /** A text field part. */
  field(name: string, text: string | Buffer): void {
    this.req.write(`--${this.boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n`);
    this.req.write(text);
    this.req.write('\r\n');
  }

  /** The head of a file part; its bytes follow with `write`. */
  fileHead(name: string, filename: string): void {
    this.req.write(`--${this.boundary}\r\ncontent-disposition: form-data; name="${name}"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`);
  }

  /**
   * Resolves true once the bytes are handed to the socket, false when the server answered or
   * closed first (a server that stopped reading never takes them).
   */
  write(bytes: Buffer | string): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.req.destroyed) return resolve(false);
      this.req.write(bytes, (err) => resolve(!err));
      this.response.then(() => resolve(false), () => resolve(false));
    });
  }

  /** Gives up the upload (the connection is closed). */
  abort(): void {
    this.req.destroy();
    HeldPush.open.delete(this);
  }

  static abortAll(): void {
    for (const push of HeldPush.open) push.abort();
  }
}

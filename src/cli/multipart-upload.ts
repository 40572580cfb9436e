import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';

export type UploadPart = { name: string; text: string } | { name: string; file: string; filename: string; contentType: string };

/**
 * A multipart/form-data body streamed from files, with its exact length (so the server sees a
 * Content-Length) and a byte counter for the progress bar. Files are never read whole into memory.
 */
export async function multipartBody(parts: UploadPart[], onProgress?: (sent: number, total: number) => void): Promise<{ body: Readable; headers: Record<string, string>; total: number }> {
  const boundary = `----warren${randomBytes(12).toString('hex')}`;
  const pieces: (Buffer | { file: string; size: number })[] = [];
  for (const p of parts) {
    if ('text' in p) {
      pieces.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${p.name}"\r\n\r\n${p.text}\r\n`));
    } else {
      const size = (await stat(p.file)).size;
      pieces.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\ncontent-type: ${p.contentType}\r\n\r\n`));
      pieces.push({ file: p.file, size });
      pieces.push(Buffer.from('\r\n'));
    }
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  const total = pieces.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p.size), 0);
  // Progress counts bytes handed to the stream; with backpressure that tracks what was sent.
  // (A 'data' listener would switch the stream to flowing mode and lose the bytes.)
  const body = new PassThrough({ highWaterMark: 256 * 1024 });
  let sent = 0;
  const write = async (chunk: Buffer) => {
    sent += chunk.length;
    onProgress?.(sent, total);
    if (!body.write(chunk)) await new Promise((r) => body.once('drain', r));
  };
  void (async () => {
    try {
      for (const p of pieces) {
        if (Buffer.isBuffer(p)) await write(p);
        else for await (const chunk of createReadStream(p.file)) await write(chunk as Buffer);
      }
      body.end();
    } catch (err) {
      body.destroy(err as Error);
    }
  })();
  return { body, total, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(total) } };
}

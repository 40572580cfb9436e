import { openAsBlob } from 'node:fs';
import { pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FormData, Response } from 'undici';

/** A text field (its line ends become CRLF, as the form-data encoding says), or a file part streamed from disk. */
export type UploadPart = { name: string; text: string } | { name: string; file: string; filename: string; contentType: string };

/**
 * A multipart/form-data body streamed from files by undici's FormData encoder (names and
 * filenames escaped as the HTML standard says), with its exact length (so the server sees a
 * Content-Length) and a byte counter for the progress bar. Files are never read whole into memory.
 */
export async function multipartBody(parts: UploadPart[], onProgress?: (sent: number, total: number) => void): Promise<{ body: Readable; headers: Record<string, string>; total: number }> {
  const form = new FormData();
  // The same parts with empty files: encoded in memory, its length is the encoding's own bytes
  // (boundaries have a fixed length, part headers depend only on names and types).
  const shape = new FormData();
  let fileBytes = 0;
  for (const p of parts) {
    if ('text' in p) {
      form.append(p.name, p.text);
      shape.append(p.name, p.text);
    } else {
      const blob = await openAsBlob(p.file, { type: p.contentType });
      fileBytes += blob.size;
      form.append(p.name, blob, p.filename);
      shape.append(p.name, new Blob([], { type: p.contentType }), p.filename);
    }
  }
  const total = (await new Response(shape).arrayBuffer()).byteLength + fileBytes;
  const encoded = new Response(form);
  let sent = 0;
  // Progress counts bytes as the request reads them; with backpressure that tracks what was sent.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      onProgress?.(sent, total);
      done(null, chunk);
    },
  });
  const body = pipeline(Readable.fromWeb(encoded.body as WebReadableStream<Uint8Array>), counter, () => undefined);
  return { body, total, headers: { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(total) } };
}

import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import { WarrenError, isWarrenError } from '../../errors.js';
import { MANIFEST_LIMITS, manifestTooLarge } from '../../manifest/manifest-limits.js';
import type { Manifest } from '../../manifest/parse-manifest.js';

export interface PushParts {
  manifest: Manifest;
  module?: Buffer;
  filesZip?: string;
}

export interface PushPartLimits {
  maxModuleBytes: number;
  /** The staged files zip; follows the node's zip limits. */
  maxZipBytes: number;
}

/**
 * Reads a push's multipart parts in order. The manifest comes first, in either form (a field or
 * a file part), at most MANIFEST_LIMITS.maxBytes, counted as it streams in and never buffered
 * past that; `onManifest` parses, authorizes and validates it before a byte of the other parts
 * is read, so a refused push costs the server no more than its manifest. Then the module goes
 * into memory (bounded) and the files zip into `staging` (bounded).
 */
export async function readPushParts(request: FastifyRequest, staging: string, limits: PushPartLimits, onManifest: (text: string) => Manifest): Promise<PushParts> {
  const fileSize = Math.max(limits.maxZipBytes, limits.maxModuleBytes);
  // Three parts at most (manifest, module, files), the manifest being a field or a file part.
  try {
    const parts = request.parts({ limits: { fileSize, fieldSize: MANIFEST_LIMITS.maxBytes, parts: 3, files: 3, fields: 1 } });
    return await readEachPart(parts, staging, limits, onManifest);
  } catch (err) {
    throw multipartError(err);
  }
}

async function readEachPart(parts: AsyncIterableIterator<Multipart>, staging: string, limits: PushPartLimits, onManifest: (text: string) => Manifest): Promise<PushParts> {
  let manifest: Manifest | undefined;
  let module: Buffer | undefined;
  let filesZip: string | undefined;
  for await (const part of parts) {
    if (part.fieldname === 'manifest') {
      if (manifest) throw badPart(part, 'the push has more than one `manifest` part');
      let text: string;
      if (part.type === 'field') {
        if (part.valueTruncated) throw manifestTooLarge(MANIFEST_LIMITS.maxBytes);
        text = String(part.value);
      } else {
        text = await readManifestFile(part);
      }
      manifest = onManifest(text);
      continue;
    }
    if (part.type === 'field') {
      throw new WarrenError('E_BAD_REQUEST', `unexpected multipart field ${JSON.stringify(part.fieldname)} (expected parts manifest, module, files)`);
    }
    if (!manifest) throw badPart(part, 'the `manifest` part must come first, before `module` and `files`');
    if (part.fieldname === 'module') {
      if (module) throw badPart(part, 'the push has more than one `module` part');
      module = await readModule(part, limits.maxModuleBytes);
    } else if (part.fieldname === 'files') {
      if (filesZip) throw badPart(part, 'the push has more than one `files` part');
      await mkdir(staging, { recursive: true });
      filesZip = join(staging, 'files.zip');
      await pipeline(part.file, createWriteStream(filesZip));
      if (part.file.truncated || (await stat(filesZip)).size > limits.maxZipBytes) {
        throw new WarrenError('E_ZIP_TOO_LARGE', `files archive is larger than the upload limit of ${limits.maxZipBytes} bytes (max-upload-bytes)`, { rule: 'max-upload-bytes', limit: limits.maxZipBytes });
      }
    } else {
      throw badPart(part, `unexpected multipart part ${JSON.stringify(part.fieldname)} (expected manifest, module, files)`);
    }
  }
  if (!manifest) throw new WarrenError('E_MANIFEST_INVALID', 'the push has no `manifest` part');
  return { manifest, module, filesZip };
}

const TOO_MANY = new Set(['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);

/**
 * The multipart parser's own errors are the client's: a missing or wrong boundary, a body that
 * ends inside a part (busboy throws plain Errors for those, which were 500s), too many parts
 * (which were 413 E_ZIP_TOO_LARGE). Warren's own errors and the file system's pass through.
 */
function multipartError(err: unknown): unknown {
  if (isWarrenError(err)) return err;
  const e = err as Error & { code?: string; errno?: number; statusCode?: number };
  if (e.code !== undefined && TOO_MANY.has(e.code)) {
    return new WarrenError('E_BAD_REQUEST', 'the push has too many parts: send at most manifest, module and files', { rule: 'max-parts', limit: 3 });
  }
  if (e.errno !== undefined) return err;
  if ((e.code?.startsWith('FST_') && (e.statusCode ?? 500) < 500) || (e.code === undefined && /multipart|unexpected end|boundary|malformed/i.test(e.message ?? ''))) {
    return new WarrenError('E_BAD_REQUEST', `malformed multipart body: ${e.message}`, { rule: 'multipart' });
  }
  return err;
}

/** A refused file part is not read on: destroying it stops the multipart parser, and Node discards the rest of the body. */
function badPart(part: { type: string; file?: MultipartFile['file'] }, message: string): WarrenError {
  if (part.type === 'file') part.file?.destroy();
  return new WarrenError('E_BAD_REQUEST', message);
}

async function readManifestFile(part: MultipartFile): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of part.file) {
    size += (c as Buffer).length;
    if (size > MANIFEST_LIMITS.maxBytes) {
      part.file.destroy();
      throw manifestTooLarge(MANIFEST_LIMITS.maxBytes);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readModule(part: MultipartFile, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of part.file) {
    size += (c as Buffer).length;
    if (size > maxBytes) {
      part.file.destroy();
      throw new WarrenError('E_ZIP_TOO_LARGE', `module larger than ${maxBytes} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

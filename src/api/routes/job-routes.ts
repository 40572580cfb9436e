import { isUtf8 } from 'node:buffer';
import type { SchemaTypes } from '../schema-types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WarrenError, isWarrenError } from '../../errors.js';
import { parseEnvPairs } from '../../parse-env-pairs.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { runJob, type JobResult } from '../../services/jobs/run-job.js';
import { parseByteSize, parseDuration } from '../../manifest/parse-units.js';
import { authorizeNamespace } from '../auth/index.js';
import { statusOf } from '../error-status.js';
import { errorResponses, fqParam } from './schemas.js';
import { acceptComponentRefs } from './component-ref-hooks.js';
import { binaryContent } from '../openapi-transform.js';

/** Output up to this size is buffered so the exit code and stderr can go in headers. */
const BUFFER_BEFORE_STREAMING = 1024 * 1024;
const MAX_STDIN_BYTES = 64 * 1024 * 1024;
const MAX_HEADER_STDERR = 8 * 1024;

interface RunQuery {
  version?: string;
  arg?: string[];
  env?: string[];
  timeout?: string;
  memory?: string;
  format?: 'raw' | 'json';
}

/**
 * `POST /v1/jobs/{fq}/run`: body = stdin, response = stdout. Raw mode: the exit code and
 * stderr are headers (`x-warren-exit-code`, `x-warren-stderr`, URI-encoded) when the job ends
 * before 1 MiB of output; past that the output streams as it is produced and they arrive as
 * HTTP trailers (with `x-warren-error` if the job failed after output began). `?format=json`
 * returns `{exitCode, stdout, stderr, ...}` at the end.
 */
export async function jobRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_STDIN_BYTES }, (_req, body, done) => done(null, body));
  acceptComponentRefs(app);

  app.post(
    '/v1/jobs/:fq/run',
    {
      config: { role: 'project', placement: 'job', componentRef: 'params' },
      schema: {
        summary: "Run a component's _start once: body = stdin, response = stdout",
        description:
          'The body is the guest\'s stdin. Raw (the default): the response is its stdout, with the exit code and stderr in the headers x-warren-exit-code and x-warren-stderr (URI-encoded), or in trailers once the output passed 1 MiB. `?format=json` (or Accept: application/json): one JSON document at the end. The fq may name a version, `sh.serval.loudify@1.0.0`.',
        params: fqParam,
        documentedBody: { required: false, content: binaryContent('application/octet-stream') },
        documentedResponses: { 200: { description: "stdout (raw), or the job's result (?format=json)", content: binaryContent('application/octet-stream') } },
        querystring: {
          type: 'object',
          properties: {
            version: { type: 'string', maxLength: 64 },
            arg: { type: 'array', items: { type: 'string' }, maxItems: 256 },
            env: { type: 'array', items: { type: 'string', pattern: '^[^=]+=' }, maxItems: 256 },
            timeout: { type: 'string', description: 'e.g. 5s; capped by the manifest' },
            memory: { type: 'string', description: 'e.g. 64MiB; capped by the manifest' },
            format: { type: 'string', enum: ['raw', 'json'] },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              fq: { type: 'string' },
              version: { type: 'string' },
              exitCode: { type: 'integer' },
              stdout: { type: 'string' },
              stdoutEncoding: { type: 'string', enum: ['utf8', 'base64'] },
              stderr: { type: 'string' },
              durationMs: { type: 'number' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { fq } = request.params;
      const q = request.query;
      authorizeNamespace(request, fq.slice(0, fq.lastIndexOf('.')));
      const input = {
        fq,
        version: q.version,
        stdin: Buffer.isBuffer(request.body) ? request.body : new Uint8Array(0),
        args: q.arg ?? [],
        env: parseEnvPairs(q.env ?? []),
        limits: {
          timeoutMs: q.timeout ? parseDuration(q.timeout, 'timeout') : undefined,
          memoryBytes: q.memory ? parseByteSize(q.memory, 'memory') : undefined,
        },
      };
      if (q.format === 'json' || (request.headers.accept ?? '').startsWith('application/json')) {
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        const result = await runJob(node.ctx, { ...input, onStdout: (c) => stdout.push(Buffer.from(c)), onStderr: (c) => stderr.push(Buffer.from(c)) });
        const out = Buffer.concat(stdout);
        const utf8 = isUtf8(out);
        return {
          ...result,
          stdout: utf8 ? out.toString('utf8') : out.toString('base64'),
          stdoutEncoding: utf8 ? 'utf8' : 'base64',
          stderr: Buffer.concat(stderr).toString('utf8'),
        };
      }
      return streamJob(node, request, reply, input);
    },
  );
}

async function streamJob(node: WarrenNode, request: FastifyRequest, reply: FastifyReply, input: Parameters<typeof runJob>[1]): Promise<FastifyReply> {
  const buffered: Buffer[] = [];
  let bufferedBytes = 0;
  const stderr: Buffer[] = [];
  let streaming = false;
  const raw = reply.raw;
  const startStreaming = () => {
    streaming = true;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'application/octet-stream',
      'transfer-encoding': 'chunked',
      trailer: 'x-warren-exit-code, x-warren-stderr, x-warren-error',
    });
    for (const b of buffered) raw.write(b);
    buffered.length = 0;
  };
  let result: JobResult;
  try {
    result = await runJob(node.ctx, {
      ...input,
      onStdout: (c) => {
        // A view, not a copy: output chunks are the job's own (the host hands out copies).
        const chunk = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        if (streaming) {
          raw.write(chunk);
          return;
        }
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        if (bufferedBytes > BUFFER_BEFORE_STREAMING) startStreaming();
      },
      onStderr: (c) => stderr.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength)),
    });
  } catch (err) {
    if (!streaming) throw err;
    const e = isWarrenError(err) ? err : new WarrenError('E_INTERNAL', String(err));
    raw.addTrailers({ 'x-warren-error': `${e.code} ${encodeURIComponent(e.message)}`, 'x-warren-stderr': headerText(stderr) });
    raw.end();
    request.log.warn({ code: e.code, status: statusOf(e.code) }, 'job failed after its output started streaming');
    return reply;
  }
  if (streaming) {
    raw.addTrailers({ 'x-warren-exit-code': String(result.exitCode), 'x-warren-stderr': headerText(stderr) });
    raw.end();
    return reply;
  }
  return reply
    .headers({
      'content-type': 'application/octet-stream',
      'x-warren-exit-code': String(result.exitCode),
      'x-warren-stderr': headerText(stderr),
      'x-warren-version': result.version,
      'x-warren-duration-ms': result.durationMs.toFixed(1),
    })
    .send(buffered.length === 1 ? buffered[0] : Buffer.concat(buffered));
}

/**
 * stderr as a header value: URI-encoded and cut to MAX_HEADER_STDERR characters *encoded*
 * (a byte encodes to up to 3: capping the bytes let 8 KiB of CJK reach ~24 KiB, past the 16 KiB
 * of headers Node and undici accept), never inside an escape or a UTF-8 sequence.
 */
export function headerText(parts: Buffer[]): string {
  if (parts.length === 0) return '';
  const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  const encoded = encodeURIComponent(all.subarray(0, MAX_HEADER_STDERR).toString('utf8'));
  if (encoded.length <= MAX_HEADER_STDERR) return encoded;
  let cut = MAX_HEADER_STDERR;
  const escape = encoded.lastIndexOf('%', cut - 1);
  if (escape > cut - 3) cut = escape;
  // `cut` starts the first escape left out: step back while it is a UTF-8 continuation byte.
  while (cut >= 3 && encoded[cut] === '%' && '89AB'.includes(encoded[cut + 1]!)) cut -= 3;
  return encoded.slice(0, cut);
}

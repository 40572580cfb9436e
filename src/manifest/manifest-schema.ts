import { z } from 'zod';
import { guestPathProblem, normalizeRelativePath, type PathProblem } from './check-paths.js';
import { DEFAULT_LIMITS, MAX_MEMORY_BYTES } from './manifest-types.js';
import { readByteSize, readDuration, type UnitResult } from './parse-units.js';
import { fqNameProblem } from './validate-fq-name.js';
import { versionProblem } from './validate-version.js';

/**
 * The structure of `warren.toml` and every rule that looks at one field. Rules that compare
 * fields (duplicate targets, overlapping mounts) live in check-manifest-relations.ts. Objects
 * are strict: an unknown key is a typo until proven otherwise.
 */

type Ctx = z.core.$RefinementCtx<unknown>;

function fail(ctx: Ctx, rule: string, message: string): void {
  ctx.addIssue({ code: 'custom', message, params: { rule } });
}

function failPath(ctx: Ctx, problem: PathProblem | null): void {
  if (problem) fail(ctx, problem.rule, problem.message);
}

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const fqSegments = (min: number, max: number) =>
  z.string().superRefine((s, ctx) => {
    const problem = fqNameProblem(s, min, max);
    if (problem) fail(ctx, 'fq-name', problem);
  });

const relativeBinary = z.string().transform((s, ctx) => {
  const r = normalizeRelativePath(s, { allowDotDot: false });
  if (!r.ok) {
    failPath(ctx, r.problem);
    return z.NEVER;
  }
  if (r.path === '.') {
    fail(ctx, 'file-path', 'must name a file inside the component directory');
    return z.NEVER;
  }
  return r.path;
});

const fileSource = z.string().transform((s, ctx) => {
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(s)) {
    let url: URL | null = null;
    try {
      url = new URL(s);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      fail(ctx, 'source-url', 'must be a relative path or an http(s):// URL');
      return z.NEVER;
    }
    return s;
  }
  const r = normalizeRelativePath(s, { allowDotDot: true });
  if (!r.ok) {
    failPath(ctx, r.problem);
    return z.NEVER;
  }
  return r.path;
});

const guestPath = (noBackslash: boolean) =>
  z.string().superRefine((p, ctx) => failPath(ctx, guestPathProblem(p, { noBackslash })));

const quantity = (read: (v: unknown) => UnitResult, max?: { value: number; label: string }) =>
  z.union([z.string(), z.number(), z.bigint()]).transform((v, ctx) => {
    const r = read(v);
    if (!r.ok) {
      fail(ctx, 'quantity', r.problem);
      return z.NEVER;
    }
    if (max && r.value > max.value) {
      fail(ctx, 'max', `must be at most ${max.label}, got ${String(v)}`);
      return z.NEVER;
    }
    return r.value;
  });

const fileSchema = z.strictObject({
  source: fileSource,
  target: guestPath(true),
  permissions: z.enum(['read-only', 'read-write']).default('read-only'),
});

const volumeSchema = z.strictObject({
  name: z.string().superRefine((s, ctx) => {
    if (s.length > 63 || !DNS_LABEL_RE.test(s)) {
      fail(ctx, 'volume-name-dns-label', 'must be a DNS label: lower-case letters, digits and -, not starting or ending with -, at most 63 characters');
    }
  }),
  mount: guestPath(false),
  durable_dir: z.strictObject(
    {},
    { error: (iss) => (iss.input === undefined ? 'is required: write durable_dir = {} (the only volume kind)' : 'must be an empty table {}') },
  ),
});

const scope = z.enum(['full', 'data']);

const snapshotsSchema = z
  .strictObject({
    on_pause: scope.default('full'),
    on_commit: scope.optional(),
    on_call: z.enum(['none', 'data', 'full']).default('none'),
    pause_in_call: z.boolean().default(false),
  })
  .transform((s, ctx) => {
    const onCommit = s.on_commit ?? s.on_pause;
    if (s.on_pause === 'data' && onCommit === 'full') {
      ctx.addIssue({
        code: 'custom',
        path: ['on_commit'],
        message: 'must be a subset of on_pause: allowed pairs are full/full, full/data, data/data',
        params: { rule: 'commit-subset-of-pause' },
      });
      return z.NEVER;
    }
    return { on_pause: s.on_pause, on_commit: onCommit, on_call: s.on_call, pause_in_call: s.pause_in_call };
  });

const limitsSchema = z.strictObject({
  memory: quantity(readByteSize, { value: MAX_MEMORY_BYTES, label: '4GiB (the wasm32 address space)' }).default(DEFAULT_LIMITS.memory),
  timeout: quantity(readDuration).default(DEFAULT_LIMITS.timeout),
  disk: quantity(readByteSize).default(DEFAULT_LIMITS.disk),
});

const envSchema = z.record(
  z.string().regex(ENV_NAME_RE, { error: 'environment variable names must match [A-Za-z_][A-Za-z0-9_]*' }),
  z.string().refine((v) => !v.includes('\0'), { error: 'must not contain NUL' }),
);

export const manifestSchema = z.strictObject({
  name: fqSegments(1, 1),
  namespace: fqSegments(1, Infinity),
  version: z.string().superRefine((s, ctx) => {
    const problem = versionProblem(s);
    if (problem) fail(ctx, 'semver', problem);
  }),
  binary: relativeBinary,
  description: z.string().max(4096).default(''),
  required_extensions: z.array(fqSegments(2, Infinity)).default([]),
  files: z.array(fileSchema).default([]),
  volumes: z.array(volumeSchema).default([]),
  snapshots: snapshotsSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  env: envSchema.default({}),
});

export type ParsedManifest = z.output<typeof manifestSchema>;

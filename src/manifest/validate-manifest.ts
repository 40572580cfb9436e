import type { z } from 'zod';
import { WarrenError, type ErrorCode } from '../errors.js';
import { checkManifestRelations } from './check-manifest-relations.js';
import { checkManifestEntryCounts } from './manifest-limits.js';
import { manifestSchema } from './manifest-schema.js';
import type { Manifest, ManifestIssue } from './manifest-types.js';

export type { Manifest, ManifestIssue } from './manifest-types.js';

/**
 * Validates a manifest object (parsed TOML or JSON) and returns it normalized. Every problem
 * is reported at once in `details.issues`. The code is `E_MANIFEST_INVALID`, except when
 * every problem is the version (`E_VERSION_INVALID`) or every problem is an fq name
 * (`E_FQ_NAME_INVALID`): then the narrower code says the same thing more precisely.
 */
export function validateManifest(obj: unknown, opts: { file?: string } = {}): Manifest {
  checkManifestEntryCounts(obj);
  const parsed = manifestSchema.safeParse(obj, { reportInput: true });
  const issues: ManifestIssue[] = parsed.success ? checkManifestRelations(parsed.data) : parsed.error.issues.flatMap(toManifestIssues);
  if (issues.length > 0) throw manifestError(issues, opts.file);
  const m = parsed.data!;
  return {
    name: m.name,
    namespace: m.namespace,
    fq: `${m.namespace}.${m.name}`,
    version: m.version,
    binary: m.binary,
    description: m.description,
    required_extensions: m.required_extensions,
    files: m.files.map((f) => ({ source: f.source, target: f.target, permissions: f.permissions })),
    volumes: m.volumes.map((v) => ({ name: v.name, mount: v.mount, durable_dir: {} })),
    snapshots: m.snapshots,
    limits: m.limits,
    env: { ...m.env },
  };
}

const MAX_ISSUES = 100;

function manifestError(issues: ManifestIssue[], file: string | undefined): WarrenError {
  const where = file ? ` ${file}` : '';
  // Every problem counts for the code; the message and details name the first MAX_ISSUES.
  const shown = issues.slice(0, MAX_ISSUES);
  const more = issues.length - shown.length;
  const list = shown.map((i) => `${i.path}: ${i.message}`).join('; ') + (more > 0 ? `; and ${more} more` : '');
  let code: ErrorCode = 'E_MANIFEST_INVALID';
  if (issues.every((i) => i.rule === 'semver')) code = 'E_VERSION_INVALID';
  else if (issues.every((i) => i.rule === 'fq-name')) code = 'E_FQ_NAME_INVALID';
  return new WarrenError(code, `invalid manifest${where}: ${list}`, { ...(file ? { file } : {}), issues: shown, ...(more > 0 ? { moreIssues: more } : {}) });
}

const ZOD_RULES: Record<string, string> = {
  invalid_type: 'type',
  invalid_value: 'one-of',
  unrecognized_keys: 'unknown-key',
  too_big: 'max',
  too_small: 'min',
  invalid_format: 'format',
  invalid_key: 'key',
  invalid_union: 'type',
};

function toManifestIssues(issue: z.core.$ZodIssue): ManifestIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      rule: 'unknown-key',
      message: 'unknown key (a typo?)',
    }));
  }
  const params = issue.code === 'custom' ? (issue.params as { rule?: unknown } | undefined) : undefined;
  const rule = typeof params?.rule === 'string' ? params.rule : (ZOD_RULES[issue.code] ?? issue.code);
  // `reportInput` is on, so a missing key shows as input undefined (and not as a wrong type).
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    // Zod's default text ("expected string, received undefined") hides that the key is missing.
    const message = issue.message.startsWith('Invalid input') ? 'is required' : issue.message;
    return [{ path: formatPath(issue.path), rule: 'required', message }];
  }
  if (issue.code === 'invalid_key') {
    return [{ path: formatPath(issue.path), rule, message: issue.issues[0]?.message ?? issue.message }];
  }
  return [{ path: formatPath(issue.path), rule, message: issue.message }];
}

/** `['files', 1, 'target']` → `files[1].target`; odd keys are quoted: `env["A B"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(manifest)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

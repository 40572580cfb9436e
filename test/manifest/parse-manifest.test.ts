import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWarrenError, type ErrorCode } from '../../src/errors.js';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import { validateManifest, type ManifestIssue } from '../../src/manifest/validate-manifest.js';

const base = { name: 'loudify', namespace: 'sh.serval', version: '1.2.0', binary: 'build/loudify.wasm' };

/** Asserts `obj` is refused and that one issue names `path` (and `rule`, when given). */
function refused(obj: Record<string, unknown>, path: string, rule?: string, code: ErrorCode = 'E_MANIFEST_INVALID'): ManifestIssue[] {
  let caught: unknown;
  try {
    validateManifest({ ...base, ...obj });
  } catch (err) {
    caught = err;
  }
  assert.ok(isWarrenError(caught), `expected a WarrenError for ${JSON.stringify(obj)}`);
  assert.equal(caught.code, code, caught.message);
  const issues = caught.details.issues as ManifestIssue[];
  const hit = issues.find((i) => i.path === path && (rule === undefined || i.rule === rule));
  assert.ok(hit, `no issue at ${path}${rule ? ` (${rule})` : ''} in ${JSON.stringify(issues)}`);
  assert.ok(caught.message.includes(`${path}: `), caught.message);
  return issues;
}

test('the DESIGN example parses and is normalized with defaults written out', () => {
  const m = parseManifest(`
name = "loudify"
namespace = "sh.serval"
version = "1.2.0"
binary = "./build/loudify.wasm"
description = "SHOUT SHOUT LET IT ALL OUT"
required_extensions = ["sh.serval.birdfeeder"]

[[files]]
source = "./static/"
target = "/static"

[[files]]
source = "https://example.com/words.txt"
target = "/etc/words"
permissions = "read-write"

[[volumes]]
name = "data"
durable_dir = {}
mount = "/data dir\\twith tab"

[snapshots]
on_pause = "full"
on_commit = "data"

[limits]
memory = "512MiB"
timeout = "2m"
disk = "100MB"

[env]
LANG = "C"
`);
  assert.deepEqual(m, {
    name: 'loudify',
    namespace: 'sh.serval',
    fq: 'sh.serval.loudify',
    version: '1.2.0',
    binary: 'build/loudify.wasm',
    description: 'SHOUT SHOUT LET IT ALL OUT',
    required_extensions: ['sh.serval.birdfeeder'],
    files: [
      { source: 'static', target: '/static', permissions: 'read-only' },
      { source: 'https://example.com/words.txt', target: '/etc/words', permissions: 'read-write' },
    ],
    volumes: [{ name: 'data', mount: '/data dir\twith tab', durable_dir: {} }],
    snapshots: { on_pause: 'full', on_commit: 'data', on_call: 'none', pause_in_call: false },
    limits: { memory: 512 * 2 ** 20, timeout: 120_000, disk: 100_000_000 },
    env: { LANG: 'C' },
  });
});

test('a minimal manifest gets every default', () => {
  const m = validateManifest(base);
  assert.deepEqual(m.files, []);
  assert.deepEqual(m.volumes, []);
  assert.deepEqual(m.required_extensions, []);
  assert.equal(m.description, '');
  assert.deepEqual(m.env, {});
  assert.deepEqual(m.snapshots, { on_pause: 'full', on_commit: 'full', on_call: 'none', pause_in_call: false });
  assert.deepEqual(m.limits, { memory: 256 * 2 ** 20, timeout: 30_000, disk: 2 ** 30 });
});

test('TOML syntax errors carry line and column', () => {
  const text = 'name = "x"\nnamespace = "y"\nversion = = "1.0.0"\n';
  assert.throws(
    () => parseManifest(text, { file: 'comp/warren.toml' }),
    (err) =>
      isWarrenError(err, 'E_MANIFEST_SYNTAX') &&
      err.details.line === 3 &&
      err.details.column === 11 &&
      err.details.file === 'comp/warren.toml' &&
      err.message.includes('comp/warren.toml:3:11') &&
      err.message.includes('line 3, column 11'),
  );
});

test('unknown keys are errors, top level and nested', () => {
  refused({ verison: '1.0.0' }, 'verison', 'unknown-key');
  refused({ limits: { memroy: '1GiB' } }, 'limits.memroy', 'unknown-key');
  refused({ files: [{ source: 'a', target: '/a', permission: 'read-write' }] }, 'files[0].permission', 'unknown-key');
  refused({ snapshots: { on_puase: 'full' } }, 'snapshots.on_puase', 'unknown-key');
});

test('required fields and types are named', () => {
  const { name: _n, ...noName } = base;
  assert.throws(() => validateManifest(noName), (err) => isWarrenError(err, 'E_MANIFEST_INVALID') && err.message.includes('name: is required'));
  refused({ version: 1 }, 'version', 'type');
  refused({ binary: 7 }, 'binary', 'type');
  refused({ files: { source: 'a' } }, 'files', 'type');
  assert.throws(() => validateManifest('nope'), (err) => isWarrenError(err, 'E_MANIFEST_INVALID'));
  assert.throws(() => validateManifest(null), (err) => isWarrenError(err, 'E_MANIFEST_INVALID'));
});

test('name, namespace and extensions follow the fq name rules', () => {
  refused({ name: 'Loud' }, 'name', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ name: 'a.b' }, 'name', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ namespace: '../etc' }, 'namespace', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ namespace: 'sh..x' }, 'namespace', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ namespace: 'sh/x' }, 'namespace', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ namespace: 'a'.repeat(125), name: 'abcd' }, 'name', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ required_extensions: ['ok.ext', 'single'] }, 'required_extensions[1]', 'fq-name', 'E_FQ_NAME_INVALID');
  refused({ required_extensions: ['sh.serval.loudify'] }, 'required_extensions[0]', 'not-self');
  refused({ required_extensions: ['a.b', 'a.b'] }, 'required_extensions[1]', 'unique-extension');
  assert.equal(validateManifest({ ...base, namespace: 'a.b_c.d9' }).fq, 'a.b_c.d9.loudify');
});

test('version must be semver (E_VERSION_INVALID when it is the only problem)', () => {
  refused({ version: '1.2' }, 'version', 'semver', 'E_VERSION_INVALID');
  refused({ version: 'v1.2.0' }, 'version', 'semver', 'E_VERSION_INVALID');
  refused({ version: '1.2', name: 'X' }, 'version', 'semver', 'E_MANIFEST_INVALID');
});

test('binary is a relative path inside the component dir', () => {
  refused({ binary: '/abs/x.wasm' }, 'binary', 'relative-path');
  refused({ binary: '../x.wasm' }, 'binary', 'no-dotdot');
  refused({ binary: 'a/../x.wasm' }, 'binary', 'no-dotdot');
  refused({ binary: '' }, 'binary', 'not-empty');
  refused({ binary: '.' }, 'binary', 'file-path');
  refused({ binary: 'a\\b.wasm' }, 'binary', 'no-backslash');
  assert.equal(validateManifest({ ...base, binary: './build//x.wasm' }).binary, 'build/x.wasm');
});

test('file targets are clean absolute paths', () => {
  const f = (target: unknown) => ({ files: [{ source: 'a', target }] });
  refused(f('rel/x'), 'files[0].target', 'absolute-path');
  refused(f('/'), 'files[0].target', 'not-root');
  refused(f('/a/../b'), 'files[0].target', 'no-dotdot');
  refused(f('/a//b'), 'files[0].target', 'no-double-slash');
  refused(f('/a/'), 'files[0].target', 'no-trailing-slash');
  refused(f('/a\0b'), 'files[0].target', 'no-nul');
  refused(f('/a/./b'), 'files[0].target', 'no-dot-segment');
  refused(f('/a\\b'), 'files[0].target', 'no-backslash');
  refused(f('/a\nb'), 'files[0].target', 'no-control-chars');
  refused({ files: [{ source: 'a', target: '/ok' }, { source: 'b', target: 'bad' }] }, 'files[1].target', 'absolute-path');
  assert.equal(validateManifest({ ...base, ...f('/with space/x') }).files[0]!.target, '/with space/x');
});

test('file sources are relative paths inside the dir or http(s) URLs', () => {
  const f = (source: unknown) => ({ files: [{ source, target: '/t' }] });
  refused(f('/etc/passwd'), 'files[0].source', 'relative-path');
  refused(f('../outside'), 'files[0].source', 'inside-component-dir');
  refused(f('a/../../outside'), 'files[0].source', 'inside-component-dir');
  refused(f('ftp://example.com/x'), 'files[0].source', 'source-url');
  refused(f('file:///etc/passwd'), 'files[0].source', 'source-url');
  refused(f(''), 'files[0].source', 'not-empty');
  assert.equal(validateManifest({ ...base, ...f('a/../b/') }).files[0]!.source, 'b');
  assert.equal(validateManifest({ ...base, ...f('http://127.0.0.1:8080/x') }).files[0]!.source, 'http://127.0.0.1:8080/x');
  refused({ files: [{ source: 'a', target: '/t', permissions: 'rw' }] }, 'files[0].permissions', 'one-of');
});

test('duplicate targets and targets inside a file target are refused', () => {
  refused({ files: [{ source: 'a', target: '/x' }, { source: 'b', target: '/x' }] }, 'files[1].target', 'unique-target');
  refused({ files: [{ source: 'https://h/x', target: '/x' }, { source: 'b', target: '/x/y' }] }, 'files[1].target', 'target-under-file');
  // A local source may be a directory: nesting is decided at pack time.
  assert.equal(validateManifest({ ...base, files: [{ source: 'dir', target: '/x' }, { source: 'b', target: '/x/y' }] }).files.length, 2);
});

test('volumes: DNS label names, clean mounts, one durable dir per mount, no overlap with files', () => {
  const v = (vol: Record<string, unknown>) => ({ volumes: [{ name: 'data', mount: '/data', durable_dir: {}, ...vol }] });
  assert.deepEqual(validateManifest({ ...base, ...v({}) }).volumes, [{ name: 'data', mount: '/data', durable_dir: {} }]);
  for (const name of ['Data', '-data', 'data-', 'da_ta', '', 'a'.repeat(64), 'da.ta']) refused(v({ name }), 'volumes[0].name', 'volume-name-dns-label');
  assert.equal(validateManifest({ ...base, ...v({ name: 'a-1' }) }).volumes[0]!.name, 'a-1');
  refused(v({ mount: 'data' }), 'volumes[0].mount', 'absolute-path');
  refused(v({ mount: '/' }), 'volumes[0].mount', 'not-root');
  refused(v({ mount: '/a/../b' }), 'volumes[0].mount', 'no-dotdot');
  refused(v({ mount: '/a//b' }), 'volumes[0].mount', 'no-double-slash');
  refused(v({ mount: '/a/' }), 'volumes[0].mount', 'no-trailing-slash');
  refused(v({ mount: '/a\0' }), 'volumes[0].mount', 'no-nul');
  refused({ volumes: [{ name: 'data', mount: '/data' }] }, 'volumes[0].durable_dir', 'required');
  refused(v({ durable_dir: { size: 1 } }), 'volumes[0].durable_dir.size', 'unknown-key');
  refused(v({ durable_dir: true }), 'volumes[0].durable_dir', 'type');
  refused({ volumes: [{ name: 'a', mount: '/d', durable_dir: {} }, { name: 'b', mount: '/d', durable_dir: {} }] }, 'volumes[1].mount', 'one-durable-dir-per-mount');
  refused({ volumes: [{ name: 'a', mount: '/d', durable_dir: {} }, { name: 'a', mount: '/e', durable_dir: {} }] }, 'volumes[1].name', 'unique-volume-name');
  refused({ ...v({}), files: [{ source: 's', target: '/data' }] }, 'volumes[0].mount', 'mount-overlaps-file');
  refused({ ...v({}), files: [{ source: 's', target: '/data/x' }] }, 'volumes[0].mount', 'mount-overlaps-file');
  refused({ ...v({ mount: '/static/data' }), files: [{ source: 's', target: '/static' }] }, 'volumes[0].mount', 'mount-overlaps-file');
  assert.equal(validateManifest({ ...base, ...v({}), files: [{ source: 's', target: '/data2' }] }).volumes.length, 1);
});

test('snapshots: on_commit is a subset of on_pause', () => {
  const s = (snapshots: Record<string, unknown>) => validateManifest({ ...base, snapshots }).snapshots;
  assert.deepEqual(s({ on_pause: 'full', on_commit: 'full' }), { on_pause: 'full', on_commit: 'full', on_call: 'none', pause_in_call: false });
  assert.deepEqual(s({ on_pause: 'full', on_commit: 'data' }), { on_pause: 'full', on_commit: 'data', on_call: 'none', pause_in_call: false });
  assert.deepEqual(s({ on_pause: 'data', on_commit: 'data', pause_in_call: true }), { on_pause: 'data', on_commit: 'data', on_call: 'none', pause_in_call: true });
  assert.deepEqual(s({ on_call: 'data' }).on_call, 'data');
  assert.deepEqual(s({ on_pause: 'data' }), { on_pause: 'data', on_commit: 'data', on_call: 'none', pause_in_call: false }, 'on_commit defaults to on_pause');
  refused({ snapshots: { on_pause: 'data', on_commit: 'full' } }, 'snapshots.on_commit', 'commit-subset-of-pause');
  refused({ snapshots: { on_pause: 'memory' } }, 'snapshots.on_pause', 'one-of');
  refused({ snapshots: { pause_in_call: 'yes' } }, 'snapshots.pause_in_call', 'type');
});

test('limits: sizes and durations, zero/negative/garbage refused, memory at most 4GiB', () => {
  assert.equal(validateManifest({ ...base, limits: { memory: '4GiB' } }).limits.memory, 4 * 2 ** 30);
  assert.equal(validateManifest({ ...base, limits: { memory: 65536, timeout: 500 } }).limits.timeout, 500);
  refused({ limits: { memory: '5GiB' } }, 'limits.memory', 'max');
  refused({ limits: { memory: '0' } }, 'limits.memory', 'quantity');
  refused({ limits: { memory: -1 } }, 'limits.memory', 'quantity');
  refused({ limits: { disk: 'huge' } }, 'limits.disk', 'quantity');
  refused({ limits: { timeout: '0s' } }, 'limits.timeout', 'quantity');
  refused({ limits: { timeout: '-5s' } }, 'limits.timeout', 'quantity');
  refused({ limits: { timeout: true } }, 'limits.timeout', 'type');
  // Past what a timer can wait (2^31-1 ms): it was accepted and every job then failed at once.
  refused({ limits: { timeout: '2562047h' } }, 'limits.timeout', 'quantity');
  // The grammar of every duration (a token's TTL too): days are a unit.
  assert.equal(validateManifest({ ...base, limits: { timeout: '2d' } }).limits.timeout, 2 * 86_400_000);
});

test('env: names and values are checked', () => {
  assert.deepEqual(validateManifest({ ...base, env: { A_1: 'x y', _B: '' } }).env, { A_1: 'x y', _B: '' });
  refused({ env: { 'A B': 'x' } }, 'env["A B"]', 'key');
  refused({ env: { A: 1 } }, 'env.A', 'type');
  refused({ env: { A: 'x\0' } }, 'env.A');
});

test('every problem is listed at once', () => {
  const issues = refused({ name: 'X', version: 'one', binary: '/b', files: [{ source: '../s', target: 'rel' }], limits: { memory: '0' } }, 'name');
  const paths = issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['binary', 'files[0].source', 'files[0].target', 'limits.memory', 'name', 'version']);
  for (const i of issues) assert.equal(typeof i.rule, 'string');
});

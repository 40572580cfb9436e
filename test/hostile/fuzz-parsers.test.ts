import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { PublicProtocol } from 'paseto';
import { SignFactory, VerifyFactory } from 'paseto/v4/public';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import { openEmbeddedPorts, type Ports } from '../../src/ports/open-ports.js';
import type { WorkerRecord } from '../../src/records.js';
import { TokenService } from '../../src/services/tokens/index.js';
import { dataLayout } from '../../src/config.js';
import { generatePem, importServerKey, openServerKey } from '../../src/services/tokens/server-key.js';
import { signToken } from '../../src/services/tokens/token-codec.js';
import { parseWorkerFilter } from '../../src/services/workers/parse-worker-filter.js';
import { makeTempDir } from '../support/temp-dir.js';
import { bump, fcOptions, okOrCode, summary } from './hostile-config.js';

const counts = summary('fuzz-parsers');

// ---------------------------------------------------------------- manifest (warren.toml text)

const VALID = `name = "loudify"
namespace = "sh.serval"
version = "1.2.0"
binary = "build/loudify.wasm"
description = "SHOUT"
required_extensions = ["sh.serval.birdfeeder"]

[[files]]
source = "./static"
target = "/static"
permissions = "read-only"

[[volumes]]
name = "data"
durable_dir = {}
mount = "/data"

[snapshots]
on_pause = "full"
on_commit = "data"

[limits]
memory = "256MiB"
timeout = "30s"
disk = "1GiB"

[env]
GREETING = "hi"
`;

const MANIFEST_CODES = ['E_MANIFEST_SYNTAX', 'E_MANIFEST_INVALID', 'E_FQ_NAME_INVALID', 'E_VERSION_INVALID', 'E_MANIFEST_TOO_LARGE', 'E_MANIFEST_TOO_MANY_ENTRIES'] as const;

/** Edits of the valid text: insert, delete or replace a run of characters somewhere. */
const mutatedManifest = fc
  .tuple(
    fc.array(
      fc.record({
        at: fc.nat(),
        del: fc.nat({ max: 8 }),
        ins: fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom('"', "'", '[', ']', '[[', '{', '}', '=', '\n', '\\', '\\u0000', '..', '/..', '\0', '#', '"""', '__proto__', 'constructor', '\u{10ffff}', '\ud800'),
        ),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([edits]) => {
    let s = VALID;
    for (const e of edits) {
      const at = e.at % (s.length + 1);
      s = s.slice(0, at) + e.ins + s.slice(at + e.del);
    }
    return s;
  });

const tomlValue = fc.oneof(
  fc.string().map((s) => JSON.stringify(s)),
  fc.constantFrom('"../../etc/passwd"', '"/static/../x"', '"/"', '""', '"a\\u0000b"', '"99999999999999999999GiB"', '"-1s"', '"1e309MiB"', '"NaNs"', '{}', '[]', 'inf', 'nan', '1979-05-27T07:32:00Z', '"' + 'a'.repeat(5000) + '"'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d).replace('Infinity', 'inf')),
  fc.boolean().map(String),
);
const tomlKey = fc.constantFrom('name', 'namespace', 'version', 'binary', 'description', 'required_extensions', 'source', 'target', 'permissions', 'mount', 'durable_dir', 'on_pause', 'on_commit', 'memory', 'timeout', 'disk', '__proto__', 'constructor', 'x');
const tomlTable = fc.constantFrom('', '[[files]]', '[[volumes]]', '[snapshots]', '[limits]', '[env]', '[files]', '[__proto__]', '[limits.memory]');
/** The valid text with one of its values swapped for a hostile one: reaches the validation rules. */
const swappedValue = fc.tuple(fc.nat(), tomlValue).map(([n, v]) => {
  const values = [...VALID.matchAll(/= (.*)$/gm)];
  const m = values[n % values.length]!;
  return VALID.slice(0, m.index! + 2) + v + VALID.slice(m.index! + m[0].length);
});
/** Structurally plausible TOML: tables and key = value lines with hostile values. */
const structuredManifest = fc
  .array(fc.tuple(tomlTable, fc.array(fc.tuple(tomlKey, tomlValue), { maxLength: 5 })), { maxLength: 6 })
  .map((sections) => sections.map(([t, kv]) => [t, ...kv.map(([k, v]) => `${k} = ${v}`)].join('\n')).join('\n'));

test('manifest parser: random, mutated and structured TOML → a manifest or a stable code, never a crash', async () => {
  let ok = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutatedManifest, swappedValue, structuredManifest, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), async (text) => {
      bump(counts, 'manifest cases');
      const r = await okOrCode('parseManifest', MANIFEST_CODES, () => parseManifest(text, { file: 'warren.toml' }));
      if (r.ok) {
        ok++;
        // An accepted manifest is a plain normalized object: no prototype games got through.
        assert.equal(Object.getPrototypeOf(r.value), Object.prototype);
        assert.ok(!r.value.files.some((f) => f.target.split('/').includes('..')), 'no .. in an accepted target');
        assert.ok(!r.value.volumes.some((v) => v.mount.split('/').includes('..')), 'no .. in an accepted mount');
      }
    }),
    fcOptions(600),
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  bump(counts, 'manifest accepted', ok);
});

test('manifest parser: pathological nesting and sizes are syntax errors, not stack overflows', async () => {
  const cases = [
    'x = ' + '['.repeat(100_000),
    'x = ' + '['.repeat(20_000) + ']'.repeat(20_000),
    'x = ' + '{a='.repeat(20_000) + '1' + '}'.repeat(20_000),
    'a' + '.a'.repeat(100_000) + ' = 1',
    'name = 99999999999999999999999999999',
    '[[files]]\n'.repeat(50_000),
    'description = "' + 'x'.repeat(5_000_000) + '"',
  ];
  for (const text of cases) {
    bump(counts, 'manifest cases');
    await okOrCode('parseManifest', MANIFEST_CODES, () => parseManifest(text));
  }
});

// ---------------------------------------------------------------- worker list filter

const FILTER_CODES = ['E_FILTER_INVALID'] as const;
const filterToken = fc.oneof(
  fc.constantFrom('name', 'status', 'version', 'created_at', 'component', 'env.REGION', 'env.', 'env.__proto__', 'env.constructor', 'and', 'AND', 'or', 'not'),
  fc.constantFrom('==', '!=', '>', '<', '>=', '<=', 'like', 'startswith', '=', '!', '<>', '=>', '==='),
  fc.constantFrom('idle', 'failed', '1.0.0', '1.0.0-rc.1', '2026-01-01', 'not-a-date', '%', '_', '%a%', '(', ')', '.*', '[', '\\', '"', '""', '"a b"', '"\\"', '"unterminated'),
  fc.string({ maxLength: 6 }),
);
const filterText = fc.oneof(
  fc.array(filterToken, { maxLength: 12 }).map((t) => t.join(' ')),
  fc.array(filterToken, { maxLength: 12 }).map((t) => t.join('')),
  fc.string({ maxLength: 80 }),
);
const sampleWorkers: WorkerRecord[] = [
  { id: 'w_1', name: 'alpha', namespace: 'sh.t', component: 'sh.t.counter', version: '1.0.0', node: 'n', status: 'idle', env: { REGION: 'eu' }, args: [], createdAt: '2026-01-02T00:00:00.000Z', updatedAt: '', lastSnapshot: null, lastCommit: null },
  { id: 'w_2', name: 'b-' + 'a'.repeat(20), namespace: 'sh.t', component: 'sh.t.counter', version: '2.0.0-rc.1', node: 'n', status: 'failed', env: {}, args: [], createdAt: 'garbage', updatedAt: '', lastSnapshot: null, lastCommit: null },
];

test('worker filter parser: random filters → a filter or E_FILTER_INVALID; matching never throws', async () => {
  let ok = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(filterText, fc.array(filterText, { maxLength: 3 })), async (text) => {
      bump(counts, 'filter cases');
      const r = await okOrCode('parseWorkerFilter', FILTER_CODES, () => parseWorkerFilter(text));
      if (!r.ok) return;
      ok++;
      for (const w of sampleWorkers) assert.equal(typeof r.value.matches(w), 'boolean');
    }),
    fcOptions(800),
  );
  bump(counts, 'filter accepted', ok);
  await okOrCode('huge filter', FILTER_CODES, () => parseWorkerFilter('name == ' + 'x'.repeat(100_000)));
});

/**
 * Found by this suite: `like` compiled its pattern to a backtracking RegExp (`%` → `.*`), so a
 * pattern with many `%` took exponential time on a name that almost matched (10 wildcards on a
 * 40-character name: ~30 s of a frozen API thread, from any project token). Fixed by the workers
 * owner in 15c58c5 (a linear wildcard matcher). The matcher runs in a worker thread here with a
 * bounded wait, so a regression fails this test instead of hanging the suite.
 */
test('worker filter: a `like` pattern full of wildcards matches in bounded time (ReDoS)', async () => {
  bump(counts, 'filter cases');
  const moduleUrl = new URL('../../src/services/workers/parse-worker-filter.js', import.meta.url).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(moduleUrl)}).then(({ parseWorkerFilter }) => {
      const f = parseWorkerFilter('name like "' + '%a'.repeat(16) + '%b"');
      const matched = f.matches({ name: 'a'.repeat(60), status: 'idle', version: '1.0.0', createdAt: '', component: 'x', env: {} });
      parentPort.postMessage({ matched });
    });`;
  const worker = new Worker(code, { eval: true });
  try {
    const outcome = await new Promise<string>((resolve) => {
      // Not a speed limit: a linear matcher answers in milliseconds even on a loaded machine, the
      // backtracking one would not answer for ages. The wait only keeps that from hanging the suite.
      const timer = setTimeout(() => resolve('still matching after 2 min'), 120_000);
      worker.once('message', (m: { matched: boolean }) => {
        clearTimeout(timer);
        resolve(`matched=${m.matched}`);
      });
      worker.once('error', (e) => {
        clearTimeout(timer);
        resolve(`error ${e.message}`);
      });
    });
    assert.equal(outcome, 'matched=false');
  } finally {
    await worker.terminate();
  }
});

// ---------------------------------------------------------------- tokens

let ports: Ports;
let tokens: TokenService;
const tmp = makeTempDir('warren-hostile-tokens-');
let valid: string;
let validJti: string;

before(async () => {
  ports = openEmbeddedPorts(tmp.path);
  tokens = await TokenService.open({ dataDir: tmp.path, registry: ports.registry });
  const issued = await tokens.issue({ sub: 'fuzz', role: 'project', namespaces: ['sh.fuzz'], ttlMs: 3600_000 });
  valid = issued.token;
  validJti = issued.record.jti;
});
after(async () => {
  await tokens.close();
  await ports.close();
  tmp.dispose();
});

/** Signs any claims object as they are (signToken normalizes its input). */
const rawSign = new PublicProtocol(SignFactory, VerifyFactory);
const TOKEN_CODES = ['E_UNAUTHORIZED', 'E_TOKEN_INVALID', 'E_TOKEN_EXPIRED', 'E_TOKEN_REVOKED'] as const;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Edits of a valid token: flip, drop or insert characters; swap headers; add footers. */
function mutateToken(base: string): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'drop', 'insert', 'truncate', 'header', 'footer', 'dup'), ch: fc.constantFrom(...B64, '.', '=', '+', '/', ' ', '\0', 'é') });
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let s = base;
    for (const e of edits) {
      const at = e.at % Math.max(1, s.length);
      if (e.kind === 'flip') s = s.slice(0, at) + (s[at] === e.ch ? B64[(B64.indexOf(e.ch) + 1) % 64] : e.ch) + s.slice(at + 1);
      else if (e.kind === 'drop') s = s.slice(0, at) + s.slice(at + 1);
      else if (e.kind === 'insert') s = s.slice(0, at) + e.ch + s.slice(at);
      else if (e.kind === 'truncate') s = s.slice(0, at);
      else if (e.kind === 'header') s = s.replace(/^v4\.public\./, ['v4.local.', 'v2.public.', 'v3.public.', 'V4.PUBLIC.', 'v4.public..', ''][at % 6]!);
      else if (e.kind === 'footer') s = `${s}.${Buffer.from('{"kid":"../../etc/passwd"}').toString('base64url')}`;
      else s = s + s;
    }
    return s;
  });
}

test('token verify: mutated, forged and random tokens → a stable code; no mutation raises a privilege', async () => {
  let accepted = 0;
  const original = await tokens.verify(valid);
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: mutateToken(valid) }, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 50 }).map((s) => 'v4.public.' + s)), async (t) => {
      bump(counts, 'token cases');
      const r = await okOrCode('verify', TOKEN_CODES, () => tokens.verify(t));
      if (r.ok) {
        // Only an encoding-level twin of the valid token may pass, and it speaks for the same principal.
        accepted++;
        assert.deepEqual(r.value, original, `mutated token ${JSON.stringify(t)} verified as someone else`);
      }
    }),
    fcOptions(500),
  );
  bump(counts, 'token mutations accepted as the same principal', accepted);
});

test('token verify: forged signatures, odd claims, oversized input', async () => {
  const otherKey = await importServerKey(generatePem(), 'attacker key');
  const claims = { sub: 'evil', role: 'admin' as const, namespaces: [], jti: validJti, iat: new Date().toISOString(), exp: new Date(Date.now() + 3600_000).toISOString() };
  const forged = await signToken(otherKey.secretKey, claims);
  assert.equal((await okOrCode('forged', TOKEN_CODES, () => tokens.verify(forged))).ok, false);
  // The server's own key (read from its data dir) with hostile claim shapes: refused by shape or by record.
  const ownKey = await openServerKey(dataLayout(tmp.path).keyFile);
  // (Claims that paseto refuses to sign at all, like a numeric sub, cannot reach verify.)
  const weird: Record<string, unknown>[] = [
    { ...claims, role: 'root' },
    { ...claims, role: ['admin'] },
    { ...claims, namespaces: [{ toString: 1 }] },
    { ...claims, namespaces: null },
    { ...claims, exp: '1970-01-01T00:00:00Z' },
    { ...claims, jti: '../../token/x' },
    { ...claims, jti: '' },
  ];
  for (const c of weird) {
    bump(counts, 'token cases');
    const t = await rawSign.Sign(ownKey.secretKey, c as never, { addIssuedAt: false });
    const r = await okOrCode(`claims ${JSON.stringify(c)}`, TOKEN_CODES, () => tokens.verify(t));
    assert.equal(r.ok, false, `claims ${JSON.stringify(c)} verified`);
  }
  for (const t of ['', ' ', 'Bearer ' + valid, valid + '.', 'v4.public.' + 'A'.repeat(1_000_000), '\0'.repeat(10)]) {
    bump(counts, 'token cases');
    await okOrCode('odd token', TOKEN_CODES, () => tokens.verify(t));
  }
});

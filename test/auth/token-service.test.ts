import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isWarrenError, type ErrorCode } from '../../src/errors.js';
import { REGISTRY_PREFIX, type TokenRecord } from '../../src/records.js';
import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import { TokenService, parseTtl, MAX_TOKEN_CHARS } from '../../src/services/tokens/index.js';
import { forge, openTokenFixture } from './token-fixtures.js';

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isWarrenError(err), `expected a WarrenError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('a token round-trips: issue, verify, record in the registry, listed', async () => {
  const f = await openTokenFixture();
  try {
    const { token, record } = await f.tokens.issue({ sub: 'ci', role: 'project', namespaces: ['sh.serval', 'sh.ocelot', 'sh.serval'], ttlMs: 60_000 });
    assert.match(token, /^v4\.public\./);
    assert.deepEqual(record.namespaces, ['sh.ocelot', 'sh.serval']);
    const p = await f.tokens.verify(token);
    assert.deepEqual({ ...p, namespaces: [...p.namespaces] }, { sub: 'ci', role: 'project', namespaces: ['sh.ocelot', 'sh.serval'], jti: record.jti, expiresAt: record.expiresAt });
    const stored = await f.registry.get<TokenRecord>(REGISTRY_PREFIX.token + record.jti);
    assert.deepEqual(stored?.value, record);
    // a second verification (cached signature) answers the same
    assert.equal((await f.tokens.verify(token)).jti, record.jti);
    const listed = await f.tokens.list();
    assert.deepEqual(listed.map((r) => r.jti), [record.jti]);
    const other = await f.tokens.issue({ sub: 'ops', role: 'admin', ttlMs: 60_000 });
    assert.notEqual(other.record.jti, record.jti);
    assert.equal((await f.tokens.list()).length, 2);
  } finally {
    await f.close();
  }
});

test('missing, malformed, wrong-purpose and oversized tokens are refused with their codes', async () => {
  const f = await openTokenFixture();
  try {
    await rejectsWith(f.tokens.verify(undefined), 'E_UNAUTHORIZED');
    await rejectsWith(f.tokens.verify(''), 'E_UNAUTHORIZED');
    await rejectsWith(f.tokens.verify('garbage'), 'E_TOKEN_INVALID');
    await rejectsWith(f.tokens.verify('v4.public.'), 'E_TOKEN_INVALID');
    const { token } = await f.tokens.issue({ sub: 'x', role: 'admin', ttlMs: 60_000 });
    await rejectsWith(f.tokens.verify(token.replace('v4.public.', 'v4.local.')), 'E_TOKEN_INVALID');
    await rejectsWith(f.tokens.verify(token.replace('v4.public.', 'v2.public.')), 'E_TOKEN_INVALID');
    await rejectsWith(f.tokens.verify(token + '.extra'), 'E_TOKEN_INVALID');
    const huge = 'v4.public.' + 'A'.repeat(MAX_TOKEN_CHARS);
    await assert.rejects(f.tokens.verify(huge), (err: unknown) => isWarrenError(err, 'E_TOKEN_INVALID') && /longer than 4096/.test(err.message));
  } finally {
    await f.close();
  }
});

test('a forged payload or signature is E_TOKEN_INVALID, also after the genuine token was cached', async () => {
  const f = await openTokenFixture();
  try {
    const { token } = await f.tokens.issue({ sub: 'x', role: 'project', namespaces: ['sh.a'], ttlMs: 60_000 });
    await f.tokens.verify(token);
    await rejectsWith(f.tokens.verify(forge(token, 5)), 'E_TOKEN_INVALID'); // a payload byte
    const sigByte = Buffer.from(token.slice('v4.public.'.length), 'base64url').length - 3;
    await rejectsWith(f.tokens.verify(forge(token, sigByte)), 'E_TOKEN_INVALID'); // a signature byte
    // a payload that claims admin, re-encoded with the genuine signature
    const body = Buffer.from(token.slice('v4.public.'.length), 'base64url');
    const claims = body.subarray(0, body.length - 64).toString('utf8').replace('"project"', '"admin"  ');
    const tampered = 'v4.public.' + Buffer.concat([Buffer.from(claims), body.subarray(body.length - 64)]).toString('base64url');
    await rejectsWith(f.tokens.verify(tampered), 'E_TOKEN_INVALID');
  } finally {
    await f.close();
  }
});

test("a token signed by another server's key is E_TOKEN_INVALID even though its record exists", async () => {
  const f = await openTokenFixture();
  try {
    const other = await f.otherServer();
    const { token, record } = await other.issue({ sub: 'x', role: 'admin', ttlMs: 60_000 });
    assert.ok(await f.registry.get(REGISTRY_PREFIX.token + record.jti));
    await rejectsWith(f.tokens.verify(token), 'E_TOKEN_INVALID');
    assert.equal((await other.verify(token)).jti, record.jti);
  } finally {
    await f.close();
  }
});

test('an expired token is E_TOKEN_EXPIRED, whether or not it was verified while still valid', async (t) => {
  // The test's own clock (Date only; timers stay real): "still valid" and "expired" are where
  // the test puts them, not wherever a loaded machine happens to be by then.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const f = await openTokenFixture();
  try {
    const never = await f.tokens.issue({ sub: 'x', role: 'admin', ttlMs: 1 });
    const cached = await f.tokens.issue({ sub: 'y', role: 'admin', ttlMs: 400 });
    await f.tokens.verify(cached.token);
    t.mock.timers.tick(600);
    await rejectsWith(f.tokens.verify(never.token), 'E_TOKEN_EXPIRED');
    await rejectsWith(f.tokens.verify(cached.token), 'E_TOKEN_EXPIRED');
  } finally {
    await f.close();
  }
});

test('revocation takes effect at once (cache invalidated by the registry watch); a missing record counts as revoked', async () => {
  const f = await openTokenFixture();
  try {
    const a = await f.tokens.issue({ sub: 'a', role: 'node', ttlMs: 60_000 });
    const b = await f.tokens.issue({ sub: 'b', role: 'node', ttlMs: 60_000 });
    await f.tokens.verify(a.token);
    await f.tokens.verify(b.token);
    const revoked = await f.tokens.revoke(a.record.jti);
    assert.equal(revoked.revoked, true);
    assert.deepEqual(await f.tokens.revoke(a.record.jti), revoked, 'revoking twice is fine');
    await rejectsWith(f.tokens.verify(a.token), 'E_TOKEN_REVOKED');
    assert.equal((await f.tokens.verify(b.token)).sub, 'b');
    await f.registry.delete(REGISTRY_PREFIX.token + b.record.jti);
    await rejectsWith(f.tokens.verify(b.token), 'E_TOKEN_REVOKED');
    await rejectsWith(f.tokens.revoke('0123456789abcdef'), 'E_NOT_FOUND');
    const listed = await f.tokens.list();
    assert.deepEqual(listed.map((r) => [r.jti, r.revoked]), [[a.record.jti, true]]);
  } finally {
    await f.close();
  }
});

test('a revocation written by another process is seen once the short cache entry lapses', async (t) => {
  // The test's clock (Date only): the entry is still cached, then lapsed, however slow the machine.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const f = await openTokenFixture({ revocationCacheMs: 1000 });
  const second = new SqliteRegistry(join(f.dataDir, 'registry.db')); // its writes fire no watch here
  try {
    const { token, record } = await f.tokens.issue({ sub: 'a', role: 'admin', ttlMs: 60_000 });
    await f.tokens.verify(token);
    await second.put(REGISTRY_PREFIX.token + record.jti, { ...record, revoked: true });
    assert.equal((await f.tokens.verify(token)).jti, record.jti, 'still cached: no watch event reached this process');
    t.mock.timers.tick(1_200);
    await rejectsWith(f.tokens.verify(token), 'E_TOKEN_REVOKED');
  } finally {
    await second.close();
    await f.close();
  }
});

test('issue refuses malformed requests', async () => {
  const f = await openTokenFixture();
  try {
    await rejectsWith(f.tokens.issue({ sub: 'x', role: 'project', ttlMs: 1000 }), 'E_BAD_REQUEST');
    await rejectsWith(f.tokens.issue({ sub: 'x', role: 'admin', namespaces: ['sh.a'], ttlMs: 1000 }), 'E_BAD_REQUEST');
    await rejectsWith(f.tokens.issue({ sub: 'x', role: 'project', namespaces: ['Sh.A'], ttlMs: 1000 }), 'E_BAD_REQUEST');
    await rejectsWith(f.tokens.issue({ sub: 'x', role: 'root' as 'admin', ttlMs: 1000 }), 'E_BAD_REQUEST');
    await rejectsWith(f.tokens.issue({ sub: '', role: 'admin', ttlMs: 1000 }), 'E_BAD_REQUEST');
    await rejectsWith(f.tokens.issue({ sub: 'x', role: 'admin', ttlMs: 0 }), 'E_BAD_REQUEST');
    await rejectsWith(f.tokens.issue({ sub: 'x', role: 'admin', ttlMs: -5 }), 'E_BAD_REQUEST');
    assert.equal((await f.tokens.list()).length, 0);
  } finally {
    await f.close();
  }
});

test('ttl strings', () => {
  assert.equal(parseTtl('30d'), 30 * 86_400_000);
  assert.equal(parseTtl('12h'), 12 * 3_600_000);
  assert.equal(parseTtl('15m'), 15 * 60_000);
  assert.equal(parseTtl('90s'), 90_000);
  assert.equal(parseTtl('2w'), 14 * 86_400_000);
  // One grammar with manifest timeouts (parse-units), with a longer cap and a unit required.
  assert.equal(parseTtl('1.5h'), 90 * 60_000);
  assert.equal(parseTtl('365d'), 365 * 86_400_000);
  for (const bad of ['', '30', '30.5', 'd', '-1d', '0s', '30 days', '99999d', '2y']) {
    assert.throws(() => parseTtl(bad), (err: unknown) => isWarrenError(err, 'E_BAD_REQUEST'), bad);
  }
});

test('the server key is created 0600, reused on the next open, and narrowed to 0600 when wider', async () => {
  const f = await openTokenFixture();
  try {
    const keyFile = join(f.dataDir, 'server.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const { token } = await f.tokens.issue({ sub: 'x', role: 'admin', ttlMs: 60_000 });
    chmodSync(keyFile, 0o644);
    const reopened = await TokenService.open({ dataDir: f.dataDir, registry: f.registry });
    try {
      assert.equal(reopened.keyModeFixed, true);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.equal((await reopened.verify(token)).sub, 'x', 'same key after reopening');
    } finally {
      await reopened.close();
    }
  } finally {
    await f.close();
  }
});

test('ensureDevAdminToken writes an admin token 0600 once, and replaces one that no longer verifies', async () => {
  const f = await openTokenFixture();
  try {
    const first = await f.tokens.ensureDevAdminToken();
    assert.equal(first.path, join(f.dataDir, 'admin.token'));
    assert.equal(first.created, true);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    const token = readFileSync(first.path, 'utf8').trim();
    assert.equal((await f.tokens.verify(token)).role, 'admin');
    assert.deepEqual(await f.tokens.ensureDevAdminToken(), { path: first.path, created: false });
    assert.equal(readFileSync(first.path, 'utf8').trim(), token);
    // a token from a previous server key: replaced
    const other = await f.otherServer();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(first.path, (await other.issue({ sub: 'old', role: 'admin', ttlMs: 60_000 })).token, { mode: 0o644 });
    assert.deepEqual(await f.tokens.ensureDevAdminToken(), { path: first.path, created: true });
    assert.equal((await f.tokens.verify(readFileSync(first.path, 'utf8').trim())).role, 'admin');
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    // revoked on purpose: kept
    const jti = (await f.tokens.verify(readFileSync(first.path, 'utf8').trim())).jti;
    await f.tokens.revoke(jti);
    assert.deepEqual(await f.tokens.ensureDevAdminToken(), { path: first.path, created: false });
    assert.ok(existsSync(first.path));
  } finally {
    await f.close();
  }
});

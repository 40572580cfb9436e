import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readClientConfigFile } from '../../src/cli/client-config.js';
import { makeTempDir } from '../support/temp-dir.js';
import { buildAuthTestApp } from './auth-test-app.js';
import { openTokenFixture } from './token-fixtures.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'cli-entry.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function warren(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [entry, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('warren login and token create/ls/revoke against a real server over HTTP', async () => {
  const f = await openTokenFixture();
  const app = await buildAuthTestApp(f.tokens);
  const home = makeTempDir('warren-home-');
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const admin = (await f.tokens.issue({ sub: 'root', role: 'admin', ttlMs: 600_000 })).token;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home.path, XDG_CONFIG_HOME: join(home.path, 'cfg') };
    const configFile = join(home.path, 'cfg', 'warren', 'config.toml');

    const bad = await warren(['login', '--server', url, '--token', 'v4.public.nope'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /E_TOKEN_INVALID/);
    assert.equal(existsSync(configFile), false, 'a token the server refuses is not saved');

    const login = await warren(['login', '--server', url, '--token', admin], env);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /logged in to .* as root \(admin\)/);
    assert.deepEqual(readClientConfigFile(configFile), { server: url, token: admin });
    assert.equal(statSync(configFile).mode & 0o777, 0o600);

    // from here on the saved config supplies server and token
    const created = await warren(['token', 'create', '--role', 'project', '--namespace', 'sh.serval', '--namespace', 'sh.ocelot', '--ttl', '12h', '--sub', 'ci', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const { token, record } = JSON.parse(created.stdout) as { token: string; record: { jti: string; namespaces: string[]; sub: string; status: string } };
    assert.deepEqual([record.sub, record.namespaces, record.status], ['ci', ['sh.ocelot', 'sh.serval'], 'active']);
    assert.equal((await f.tokens.verify(token)).role, 'project');

    const plain = await warren(['token', 'create', '--role', 'node'], env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^v4\.public\.[A-Za-z0-9_-]+\n$/, 'stdout holds the token alone');
    assert.match(plain.stderr, /created node token/);

    const badTtl = await warren(['token', 'create', '--role', 'node', '--ttl', 'forever'], env);
    assert.equal(badTtl.code, 1);
    assert.match(badTtl.stderr, /E_BAD_REQUEST/);

    const ls = await warren(['token', 'ls', '--json'], env);
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout) as { jti: string; status: string }[];
    assert.ok(listed.some((r) => r.jti === record.jti && r.status === 'active'));
    assert.equal(listed.length, 3);
    const table = await warren(['token', 'ls'], env);
    assert.match(table.stdout, /^JTI\s+SUB\s+ROLE\s+NAMESPACES\s+EXPIRESAT\s+STATUS/);
    assert.match(table.stdout, new RegExp(`${record.jti}\\s+ci\\s+project\\s+sh.ocelot,sh.serval`));

    const revoke = await warren(['token', 'revoke', record.jti], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, new RegExp(`revoked ${record.jti}`));
    const again = await warren(['login', '--token', token], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /E_TOKEN_REVOKED/);
    assert.equal(readClientConfigFile(configFile).token, admin, 'a failed login leaves the config alone');

    const project = (await f.tokens.issue({ sub: 'p', role: 'project', namespaces: ['sh.serval'], ttlMs: 600_000 })).token;
    const forbidden = await warren(['token', 'ls'], { ...env, WARREN_TOKEN: project });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /E_FORBIDDEN/);
    const missing = await warren(['token', 'revoke', '0123456789abcdef0123456789abcdef'], env);
    assert.match(missing.stderr, /E_NOT_FOUND/);
  } finally {
    await app.close();
    await f.close();
    home.dispose();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientConfigPath, readClientConfigFile, resolveClientConfig, writeClientConfig, DEFAULT_SERVER } from '../../src/cli/client-config.js';
import { makeTempDir } from '../support/temp-dir.js';

test('client config: flags, then WARREN_SERVER/WARREN_TOKEN, then $XDG_CONFIG_HOME/warren/config.toml, then the default', () => {
  const tmp = makeTempDir('warren-cfg-');
  try {
    const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: tmp.path };
    const path = clientConfigPath(env);
    assert.equal(path, join(tmp.path, 'warren', 'config.toml'));
    assert.deepEqual(resolveClientConfig({}, env), { server: DEFAULT_SERVER });
    mkdirSync(join(tmp.path, 'warren'));
    writeFileSync(path, 'server = "http://file:1"\ntoken = "file-token"\n');
    assert.deepEqual(resolveClientConfig({}, env), { server: 'http://file:1', token: 'file-token' });
    env.WARREN_SERVER = 'http://env:2';
    assert.deepEqual(resolveClientConfig({}, env), { server: 'http://env:2', token: 'file-token' });
    env.WARREN_TOKEN = 'env-token';
    assert.deepEqual(resolveClientConfig({}, env), { server: 'http://env:2', token: 'env-token' });
    assert.deepEqual(resolveClientConfig({ server: 'http://flag:3' }, env), { server: 'http://flag:3', token: 'env-token' });
    assert.deepEqual(resolveClientConfig({ server: 'http://flag:3', token: 'flag-token' }, env), { server: 'http://flag:3', token: 'flag-token' });
    assert.equal(clientConfigPath({ HOME: '/home/x' }).endsWith(join('.config', 'warren', 'config.toml')), true);
  } finally {
    tmp.dispose();
  }
});

test('writing the config keeps unknown keys and leaves the file 0600, even if it was wider', () => {
  const tmp = makeTempDir('warren-cfg-');
  try {
    const path = join(tmp.path, 'warren', 'config.toml');
    mkdirSync(join(tmp.path, 'warren'));
    writeFileSync(path, 'color = false\nserver = "http://old:1"\n', { mode: 0o644 });
    writeClientConfig({ server: 'http://new:2', token: 't' }, path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readClientConfigFile(path), { server: 'http://new:2', token: 't' });
    assert.match(readFileSync(path, 'utf8'), /color = false/);
    writeFileSync(path, 'server = [');
    assert.throws(() => readClientConfigFile(path), /not valid TOML/);
  } finally {
    tmp.dispose();
  }
});

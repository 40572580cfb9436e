import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWarrenError } from '../../src/errors.js';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import { validateManifest, type ManifestIssue } from '../../src/manifest/validate-manifest.js';

const base = { name: 'vols', namespace: 'sh.snap', version: '1.0.0', binary: 'main.wasm' };
const vol = (v: Record<string, unknown>) => ({ name: 'data', mount: '/data', durable_dir: {}, ...v });

/** The manifest is refused, with an issue at `path` of rule `rule` whose message says `says`; the error message carries it. */
function refused(obj: Record<string, unknown>, path: string, rule: string, says: RegExp): void {
  let caught: unknown;
  try {
    validateManifest({ ...base, ...obj });
  } catch (err) {
    caught = err;
  }
  assert.ok(isWarrenError(caught, 'E_MANIFEST_INVALID'), `expected E_MANIFEST_INVALID for ${JSON.stringify(obj)}`);
  const issues = caught.details.issues as ManifestIssue[];
  const hit = issues.find((i) => i.path === path && i.rule === rule);
  assert.ok(hit, `no ${rule} issue at ${path} in ${JSON.stringify(issues)}`);
  assert.match(hit.message, says);
  assert.ok(caught.message.includes(`${path}: ${hit.message}`), caught.message);
}

const rules: [string, Record<string, unknown>, string, RegExp][] = [
  ['volume-name-dns-label', { volumes: [vol({ name: 'Data_1' })] }, 'volumes[0].name', /DNS label/],
  ['absolute-path', { volumes: [vol({ mount: 'data' })] }, 'volumes[0].mount', /absolute/],
  ['not-root', { volumes: [vol({ mount: '/' })] }, 'volumes[0].mount', /must not be \/ itself/],
  ['no-dotdot', { volumes: [vol({ mount: '/a/../data' })] }, 'volumes[0].mount', /\.\./],
  ['no-dot-segment', { volumes: [vol({ mount: '/a/./data' })] }, 'volumes[0].mount', /\. segments/],
  ['no-double-slash', { volumes: [vol({ mount: '/a//data' })] }, 'volumes[0].mount', /\/\//],
  ['no-trailing-slash', { volumes: [vol({ mount: '/data/' })] }, 'volumes[0].mount', /end with \//],
  ['no-nul', { volumes: [vol({ mount: '/da\0ta' })] }, 'volumes[0].mount', /NUL/],
  ['no-control-chars', { volumes: [vol({ mount: '/da\nta' })] }, 'volumes[0].mount', /control characters/],
  ['path-length', { volumes: [vol({ mount: '/' + 'a'.repeat(5000) })] }, 'volumes[0].mount', /at most 4096/],
  ['required', { volumes: [{ name: 'data', mount: '/data' }] }, 'volumes[0].durable_dir', /durable_dir = \{\}/],
  ['unknown-key', { volumes: [vol({ durable_dir: { size: 1 } })] }, 'volumes[0].durable_dir.size', /unknown|unrecognized/i],
  ['type', { volumes: [vol({ durable_dir: true })] }, 'volumes[0].durable_dir', /empty table/],
  ['unique-volume-name', { volumes: [vol({}), vol({ mount: '/other' })] }, 'volumes[1].name', /already used by volumes\[0\]/],
  ['one-durable-dir-per-mount', { volumes: [vol({}), vol({ name: 'two' })] }, 'volumes[1].mount', /already has a durable dir/],
  ['mount-inside-volume', { volumes: [vol({}), vol({ name: 'inner', mount: '/data/inner' })] }, 'volumes[1].mount', /must not nest/],
  ['mount-overlaps-file', { volumes: [vol({})], files: [{ source: 'x', target: '/data/x' }] }, 'volumes[0].mount', /overlaps the initial file target/],
  ['mount-overlaps-file (file above)', { volumes: [vol({ mount: '/static/data' })], files: [{ source: 'x', target: '/static' }] }, 'volumes[0].mount', /overlaps/],
  ['commit-subset-of-pause', { snapshots: { on_pause: 'data', on_commit: 'full' } }, 'snapshots.on_commit', /subset of on_pause/],
  ['snapshot scope', { snapshots: { on_pause: 'memory' } }, 'snapshots.on_pause', /full|data/],
];

for (const [rule, obj, path, says] of rules) {
  test(`volume rule ${rule}: refused with its message`, () => {
    const realRule = rule.split(' ')[0]!;
    if (realRule === 'snapshot') {
      let caught: unknown;
      try {
        validateManifest({ ...base, ...obj });
      } catch (err) {
        caught = err;
      }
      assert.ok(isWarrenError(caught, 'E_MANIFEST_INVALID'));
      const issue = (caught.details.issues as ManifestIssue[]).find((i) => i.path === path);
      assert.ok(issue, JSON.stringify(caught.details.issues));
      assert.match(issue.message, says);
      return;
    }
    refused(obj, path, realRule, says);
  });
}

test('valid volumes and scopes: spaces and tabs in mounts, sibling mounts, the three scope pairs, on_commit defaulting to on_pause', () => {
  const m = validateManifest({ ...base, volumes: [vol({ mount: '/my data' }), vol({ name: 'logs', mount: '/data2\tx' })], files: [{ source: 'x', target: '/data' }] });
  assert.deepEqual(m.volumes.map((v) => v.mount), ['/my data', '/data2\tx']);
  for (const [p, c] of [['full', 'full'], ['full', 'data'], ['data', 'data']]) {
    assert.deepEqual(validateManifest({ ...base, snapshots: { on_pause: p, on_commit: c } }).snapshots, { on_pause: p, on_commit: c, on_call: 'none', pause_in_call: false });
  }
  assert.equal(validateManifest({ ...base, snapshots: { on_pause: 'data' } }).snapshots.on_commit, 'data');
  assert.equal(validateManifest({ ...base, snapshots: { on_call: 'full' } }).snapshots.on_call, 'full');
  assert.throws(() => validateManifest({ ...base, snapshots: { on_call: 'always' } }), /on_call/);
  const toml = parseManifest(`name = "vols"\nnamespace = "sh.snap"\nversion = "1.0.0"\nbinary = "main.wasm"\n[[volumes]]\nname = "data"\ndurable_dir = {}\nmount = "/data"\n[snapshots]\non_pause = "full"\non_commit = "data"\n`);
  assert.deepEqual([toml.volumes[0]!.mount, toml.snapshots.on_commit], ['/data', 'data']);
});

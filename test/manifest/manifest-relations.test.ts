import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkManifestRelations } from '../../src/manifest/check-manifest-relations.js';
import type { ParsedManifest } from '../../src/manifest/manifest-schema.js';
import { isUrlSource, type ManifestIssue } from '../../src/manifest/manifest-types.js';
import { PathIndex } from '../../src/manifest/path-index.js';

/**
 * checkManifestRelations finds duplicates by map and nesting by PathIndex (it compared every
 * entry with every other: 30,000 [[files]] took 20 s). Here it must report exactly what the
 * pairwise comparison reports, issue for issue and in the same order.
 */
const isSameOrUnder = (inner: string, outer: string) => inner === outer || inner.startsWith(outer + '/');

function pairwise(m: ParsedManifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  m.required_extensions.forEach((ext, i) => {
    if (ext === `${m.namespace}.${m.name}`) issues.push({ path: `required_extensions[${i}]`, rule: 'not-self', message: '' });
    if (m.required_extensions.indexOf(ext) !== i) issues.push({ path: `required_extensions[${i}]`, rule: 'unique-extension', message: '' });
  });
  m.files.forEach((file, i) => {
    const first = m.files.findIndex((f) => f.target === file.target);
    if (first !== i) issues.push({ path: `files[${i}].target`, rule: 'unique-target', message: `${first}` });
    m.files.forEach((other, j) => {
      if (j !== i && isUrlSource(other.source) && file.target.startsWith(other.target + '/')) issues.push({ path: `files[${i}].target`, rule: 'target-under-file', message: `${j}` });
    });
  });
  m.volumes.forEach((vol, i) => {
    const sameName = m.volumes.findIndex((v) => v.name === vol.name);
    if (sameName !== i) issues.push({ path: `volumes[${i}].name`, rule: 'unique-volume-name', message: `${sameName}` });
    const sameMount = m.volumes.findIndex((v) => v.mount === vol.mount);
    if (sameMount !== i) {
      issues.push({ path: `volumes[${i}].mount`, rule: 'one-durable-dir-per-mount', message: `${sameMount}` });
      return;
    }
    m.volumes.forEach((outer, j) => {
      if (j !== i && vol.mount !== outer.mount && isSameOrUnder(vol.mount, outer.mount)) issues.push({ path: `volumes[${i}].mount`, rule: 'mount-inside-volume', message: `${j}` });
    });
    m.files.forEach((file, j) => {
      if (isSameOrUnder(file.target, vol.mount) || isSameOrUnder(vol.mount, file.target)) issues.push({ path: `volumes[${i}].mount`, rule: 'mount-overlaps-file', message: `${j}` });
    });
  });
  return issues;
}

/** The index an issue's message names (the other entry), for comparing with `pairwise`. */
function otherIndex(issue: ManifestIssue): string {
  const all = [...issue.message.matchAll(/\[(\d+)\]/g)].map((m) => m[1]!);
  return issue.rule === 'not-self' || issue.rule === 'unique-extension' ? '' : (all[all.length - 1] ?? '');
}

const paths = fc.constantFrom('/a', '/a/b', '/a/b/c', '/a/bc', '/b', '/a/b/c/d', '/ab');
const manifest = fc.record({
  files: fc.array(fc.record({ source: fc.constantFrom('./x', 'https://h/x'), target: paths }), { maxLength: 8 }),
  volumes: fc.array(fc.record({ name: fc.constantFrom('v', 'w', 'x'), mount: paths }), { maxLength: 5 }),
  required_extensions: fc.array(fc.constantFrom('sh.e.one', 'sh.e.two', 'sh.t.me'), { maxLength: 4 }),
});

test('the relations check reports what comparing every pair reports, in the same order', () => {
  fc.assert(
    fc.property(manifest, (parts) => {
      const m = {
        name: 'me', namespace: 'sh.t', ...parts,
        files: parts.files.map((f) => ({ ...f, permissions: 'read-only' as const })),
        volumes: parts.volumes.map((v) => ({ ...v, durable_dir: {} })),
      } as unknown as ParsedManifest;
      const got = checkManifestRelations(m).map((i) => ({ path: i.path, rule: i.rule, other: otherIndex(i) }));
      const want = pairwise(m).map((i) => ({ path: i.path, rule: i.rule, other: i.message }));
      assert.deepEqual(got, want);
    }),
    { seed: 0x5eed0021, numRuns: 2000 },
  );
});

test('PathIndex answers ancestors, descendants and the deepest match by segment, not by string prefix', () => {
  const index = new PathIndex();
  ['/a', '/a/b', '/ab', '/a/b/c', '/a/b'].forEach((p, i) => index.add(p, i));
  assert.deepEqual(index.above('/a/b/c'), [0, 1, 4]);
  assert.deepEqual(index.above('/a/b/c', true), [0, 1, 4, 3]);
  assert.deepEqual(index.below('/a').sort(), [1, 3, 4]);
  assert.deepEqual(index.below('/ab'), []);
  assert.deepEqual(index.deepestAtOrAbove('/a/b/x/y'), [1, 4]);
  assert.equal(index.deepestAtOrAbove('/c'), null);
});

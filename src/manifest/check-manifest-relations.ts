import { isUrlSource, type ManifestIssue } from './manifest-types.js';
import type { ParsedManifest } from './manifest-schema.js';
import { PathIndex } from './path-index.js';
import { MAX_FQ_NAME_LENGTH } from './validate-fq-name.js';

/**
 * Rules between fields of a structurally valid manifest. Only what is knowable without the
 * sources: a URL source is always one file, but whether a local source is a file or a
 * directory is known at pack time, so pack-files.ts checks nesting again after expanding.
 * Linear in the entries (plus the issues found): duplicates are found by map, nesting by
 * PathIndex, never by comparing every entry with every other.
 */
export function checkManifestRelations(m: ParsedManifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const fq = `${m.namespace}.${m.name}`;
  if (fq.length > MAX_FQ_NAME_LENGTH) {
    issues.push({ path: 'name', rule: 'fq-name', message: `namespace.name must be at most ${MAX_FQ_NAME_LENGTH} characters (is ${fq.length})` });
  }

  const firstExtension = firstIndexes(m.required_extensions);
  m.required_extensions.forEach((ext, i) => {
    if (ext === fq) issues.push({ path: `required_extensions[${i}]`, rule: 'not-self', message: 'a component cannot require itself' });
    if (firstExtension.get(ext) !== i) {
      issues.push({ path: `required_extensions[${i}]`, rule: 'unique-extension', message: `${ext} is listed twice` });
    }
  });

  const firstTarget = firstIndexes(m.files.map((f) => f.target));
  const urlTargets = new PathIndex();
  const targets = new PathIndex();
  m.files.forEach((file, j) => {
    targets.add(file.target, j);
    if (isUrlSource(file.source)) urlTargets.add(file.target, j);
  });
  m.files.forEach((file, i) => {
    const first = firstTarget.get(file.target)!;
    if (first !== i) {
      issues.push({ path: `files[${i}].target`, rule: 'unique-target', message: `${file.target} is already the target of files[${first}]` });
    }
    for (const j of ascending(urlTargets.above(file.target))) {
      issues.push({
        path: `files[${i}].target`,
        rule: 'target-under-file',
        message: `${file.target} lies inside ${m.files[j]!.target}, which is a file (files[${j}] is a URL)`,
      });
    }
  });

  const firstName = firstIndexes(m.volumes.map((v) => v.name));
  const firstMount = firstIndexes(m.volumes.map((v) => v.mount));
  const mounts = new PathIndex();
  m.volumes.forEach((vol, j) => mounts.add(vol.mount, j));
  m.volumes.forEach((vol, i) => {
    const sameName = firstName.get(vol.name)!;
    if (sameName !== i) {
      issues.push({ path: `volumes[${i}].name`, rule: 'unique-volume-name', message: `volume name ${vol.name} is already used by volumes[${sameName}]` });
    }
    const sameMount = firstMount.get(vol.mount)!;
    if (sameMount !== i) {
      issues.push({
        path: `volumes[${i}].mount`,
        rule: 'one-durable-dir-per-mount',
        message: `${vol.mount} already has a durable dir (volumes[${sameMount}])`,
      });
      // Its nesting and overlaps are the first one's, reported there once.
      return;
    }
    for (const j of ascending(mounts.above(vol.mount))) {
      issues.push({
        path: `volumes[${i}].mount`,
        rule: 'mount-inside-volume',
        message: `${vol.mount} lies inside the durable dir ${m.volumes[j]!.mount} (volumes[${j}]); durable dirs must not nest`,
      });
    }
    for (const j of ascending([...targets.above(vol.mount, true), ...targets.below(vol.mount)])) {
      issues.push({
        path: `volumes[${i}].mount`,
        rule: 'mount-overlaps-file',
        message: `${vol.mount} overlaps the initial file target ${m.files[j]!.target} (files[${j}]); durable dirs and initial files must not share paths`,
      });
    }
  });
  return issues;
}

/** Each distinct value and the index of its first occurrence. */
function firstIndexes(values: readonly string[]): Map<string, number> {
  const first = new Map<string, number>();
  values.forEach((v, i) => {
    if (!first.has(v)) first.set(v, i);
  });
  return first;
}

function ascending(indexes: number[]): number[] {
  return indexes.length > 1 ? indexes.sort((a, b) => a - b) : indexes;
}

import { isSameOrUnder } from './check-paths.js';
import { isUrlSource, type ManifestIssue } from './manifest-types.js';
import type { ParsedManifest } from './manifest-schema.js';
import { MAX_FQ_NAME_LENGTH } from './validate-fq-name.js';

/**
 * Rules between fields of a structurally valid manifest. Only what is knowable without the
 * sources: a URL source is always one file, but whether a local source is a file or a
 * directory is known at pack time, so pack-files.ts checks nesting again after expanding.
 */
export function checkManifestRelations(m: ParsedManifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const fq = `${m.namespace}.${m.name}`;
  if (fq.length > MAX_FQ_NAME_LENGTH) {
    issues.push({ path: 'name', rule: 'fq-name', message: `namespace.name must be at most ${MAX_FQ_NAME_LENGTH} characters (is ${fq.length})` });
  }

  m.required_extensions.forEach((ext, i) => {
    if (ext === fq) issues.push({ path: `required_extensions[${i}]`, rule: 'not-self', message: 'a component cannot require itself' });
    if (m.required_extensions.indexOf(ext) !== i) {
      issues.push({ path: `required_extensions[${i}]`, rule: 'unique-extension', message: `${ext} is listed twice` });
    }
  });

  m.files.forEach((file, i) => {
    const first = m.files.findIndex((f) => f.target === file.target);
    if (first !== i) {
      issues.push({ path: `files[${i}].target`, rule: 'unique-target', message: `${file.target} is already the target of files[${first}]` });
    }
    m.files.forEach((other, j) => {
      if (j !== i && isUrlSource(other.source) && file.target.startsWith(other.target + '/')) {
        issues.push({
          path: `files[${i}].target`,
          rule: 'target-under-file',
          message: `${file.target} lies inside ${other.target}, which is a file (files[${j}] is a URL)`,
        });
      }
    });
  });

  m.volumes.forEach((vol, i) => {
    const sameName = m.volumes.findIndex((v) => v.name === vol.name);
    if (sameName !== i) {
      issues.push({ path: `volumes[${i}].name`, rule: 'unique-volume-name', message: `volume name ${vol.name} is already used by volumes[${sameName}]` });
    }
    const sameMount = m.volumes.findIndex((v) => v.mount === vol.mount);
    if (sameMount !== i) {
      issues.push({
        path: `volumes[${i}].mount`,
        rule: 'one-durable-dir-per-mount',
        message: `${vol.mount} already has a durable dir (volumes[${sameMount}])`,
      });
    }
    m.volumes.forEach((outer, j) => {
      if (j !== i && vol.mount !== outer.mount && isSameOrUnder(vol.mount, outer.mount)) {
        issues.push({
          path: `volumes[${i}].mount`,
          rule: 'mount-inside-volume',
          message: `${vol.mount} lies inside the durable dir ${outer.mount} (volumes[${j}]); durable dirs must not nest`,
        });
      }
    });
    m.files.forEach((file, j) => {
      if (isSameOrUnder(file.target, vol.mount) || isSameOrUnder(vol.mount, file.target)) {
        issues.push({
          path: `volumes[${i}].mount`,
          rule: 'mount-overlaps-file',
          message: `${vol.mount} overlaps the initial file target ${file.target} (files[${j}]); durable dirs and initial files must not share paths`,
        });
      }
    });
  });
  return issues;
}

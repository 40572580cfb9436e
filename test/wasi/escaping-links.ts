import { readdirSync, readlinkSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

/** True when `target`, read from the directory `fromRel` of a tree, leads out of the tree. */
export function leavesTree(fromRel: string, target: string): boolean {
  if (posix.isAbsolute(target)) return true;
  const p = posix.normalize(posix.join(fromRel, target));
  return p === '..' || p.startsWith('../');
}

/** Every symlink under `root` whose target, read from its place, leaves `root`. */
export function escapingLinks(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isSymbolicLink()) {
        const t = readlinkSync(p);
        if (leavesTree(relative(root, dir), t)) out.push(`${relative(root, p)} -> ${t}`);
      } else if (ent.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

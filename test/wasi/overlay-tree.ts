import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A hash of everything under `dir` a write could change: names, types, modes, sizes, times,
 * link counts, file bytes and link targets. An overlay's lower tree must hash the same after a
 * guest ran over it.
 */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (p: string, rel: string): void => {
    const st = lstatSync(p);
    h.update(`${rel}\0${st.mode}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.nlink}\0`);
    if (st.isFile()) h.update(readFileSync(p));
    else if (st.isSymbolicLink()) h.update(readlinkSync(p));
    else if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return h.digest('hex');
}

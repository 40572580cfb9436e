import { chmodSync, linkSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Creates `file` with `content`, readable by the owner only, unless it exists already (returns
 * false then). Written to a temp name and hard-linked into place, so a crash never leaves a
 * half-written key, and two processes starting at once agree on one winner.
 */
export function createPrivateFile(file: string, content: string): boolean {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** Narrows a secret file's mode to 0600 when group or others can read it; true when it had to. */
export function restrictToOwner(file: string): boolean {
  if (process.platform === 'win32') return false;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return false;
  chmodSync(file, 0o600);
  return true;
}

import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { WarrenError } from '../errors.js';

/** What `<data>/warren.lock` says about the process holding the data directory. */
export interface DataDirHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null off Linux. */
  startTime: string | null;
  host: string;
  since: string;
}

export const LOCK_FILE = 'warren.lock';

/** Lock files this process holds, removed at exit if a node was never closed. */
const heldHere = new Map<string, string>();
let exitHookInstalled = false;

/**
 * The exclusive hold of one process on a data directory. Node's fs has no flock/fcntl lock, so
 * this is a pid file: created complete and atomically (written under a private name, then
 * link(2)ed in, which fails if one exists), and taken over when its holder is dead: no such
 * pid, a zombie, or a pid now used by a process that started at another time (pid reuse, e.g. a
 * restarted container). A SIGKILLed holder thus never blocks the next start, and liveness never
 * depends on time or machine speed (why not an mtime lock such as proper-lockfile: docs/decisions.md).
 */
export class DataDirLock {
  private constructor(
    readonly path: string,
    private readonly body: string,
  ) {}

  /** Takes the lock or throws `E_DATA_DIR_LOCKED` naming the holder's pid. */
  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    const mine: DataDirHolder = { pid: process.pid, startTime: processStartTime(process.pid), host: hostname(), since: new Date().toISOString() };
    const body = JSON.stringify(mine) + '\n';
    const draft = join(dataDir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
    writeFileSync(draft, body, { mode: 0o600 });
    try {
      // A few rounds only matter when several processes race over a stale lock.
      for (let round = 0; round < 8; round++) {
        try {
          linkSync(draft, path);
          installExitHook();
          heldHere.set(path, body);
          return new DataDirLock(path, body);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const raw = readIfExists(path);
        if (raw === null) continue; // released meanwhile
        const holder = parseHolder(raw);
        if (holder && holderAlive(path, holder)) throw lockedError(dataDir, path, holder);
        removeStale(path, raw);
      }
      throw new WarrenError('E_DATA_DIR_LOCKED', `data directory ${dataDir} is contended: other processes keep taking ${path}`, { dataDir, lockFile: path });
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /** Removes the lock file if it is still this hold's (idempotent). */
  release(): void {
    if (heldHere.get(this.path) !== this.body) return;
    heldHere.delete(this.path);
    if (readIfExists(this.path) === this.body) rmSync(this.path, { force: true });
  }
}

function lockedError(dataDir: string, path: string, holder: DataDirHolder): WarrenError {
  const here = holder.pid === process.pid ? ' (this process: a node on it is already open)' : '';
  return new WarrenError(
    'E_DATA_DIR_LOCKED',
    `data directory ${dataDir} is in use by warren process ${holder.pid}${here} since ${holder.since}: stop it first, or talk to its server instead of using --local (lock: ${path})`,
    { dataDir, pid: holder.pid, host: holder.host, since: holder.since, lockFile: path },
  );
}

/**
 * Moves a stale lock aside and deletes it, unless what was moved is no longer the stale one
 * (another process took the lock over in between): that one is linked back in place.
 */
function removeStale(path: string, staleRaw: string): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (readIfExists(aside) !== staleRaw) {
      try {
        linkSync(aside, path);
      } catch {
        // a third process holds it now; the one we moved finds out at release (content differs)
      }
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

function holderAlive(path: string, holder: DataDirHolder): boolean {
  if (holder.pid === process.pid) return heldHere.has(path);
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const stat = readProcStat(holder.pid);
  if (stat === null) return true; // no /proc: the pid exists, trust it
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.startTime === null || stat.startTime === holder.startTime;
}

function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** State and start time from /proc/<pid>/stat (the name in parentheses may hold spaces). */
function readProcStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: field 3 (state) is fields[0], field 22 (starttime) is fields[19].
  if (fields.length < 20) return null;
  return { state: fields[0]!, startTime: fields[19]! };
}

function parseHolder(raw: string): DataDirHolder | null {
  try {
    const v = JSON.parse(raw) as Partial<DataDirHolder>;
    if (!Number.isInteger(v.pid) || (v.pid as number) <= 0) return null;
    return { pid: v.pid as number, startTime: typeof v.startTime === 'string' ? v.startTime : null, host: String(v.host ?? ''), since: String(v.since ?? '') };
  } catch {
    return null; // not written by a live holder: locks are linked in complete
  }
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [path, body] of heldHere) {
      try {
        if (readIfExists(path) === body) rmSync(path, { force: true });
      } catch {
        // exiting anyway
      }
    }
  });
}

import type { Entry } from 'yauzl';
import { WarrenError } from '../errors.js';
import { guestPathProblem } from './check-paths.js';
import type { ManifestFile } from './manifest-types.js';
import { PathIndex } from './path-index.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What an entry of the central directory turned out to be, once its name and type passed. */
export type CheckedEntry =
  | { kind: 'dir'; name: string; entry: Entry }
  | { kind: 'file'; name: string; path: string; entry: Entry; file: ManifestFile };

export function unsafe(name: string, rule: string, message: string, extra: Record<string, unknown> = {}): WarrenError {
  return new WarrenError('E_ZIP_UNSAFE', `zip entry ${JSON.stringify(name)}: ${message}`, { entry: name, rule, ...extra });
}

/**
 * Decodes an entry name from its raw bytes: UTF-8 when the entry says so, otherwise only
 * plain ASCII is accepted (CP437 names are a guessing game that a server should not play).
 */
export function decodeEntryName(entry: Entry): string {
  const raw = (entry as unknown as { fileName: Buffer | string }).fileName;
  if (typeof raw === 'string') return raw;
  const printable = raw.toString('latin1');
  if ((entry.generalPurposeBitFlag & 0x800) !== 0) {
    try {
      return utf8.decode(raw);
    } catch {
      throw unsafe(printable, 'name-encoding', 'name is flagged UTF-8 but is not valid UTF-8');
    }
  }
  if (raw.some((b) => b >= 0x80)) throw unsafe(printable, 'name-encoding', 'name is neither flagged UTF-8 nor plain ASCII');
  return printable;
}

/** A manifest's [[files]] targets, indexed once for all the entries of a zip. */
export class DeclaredTargets {
  private readonly index = new PathIndex();

  constructor(readonly files: readonly ManifestFile[]) {
    files.forEach((f, i) => this.index.add(f.target, i));
  }

  /** The deepest target that `path` is or lies under (its length of path, not the number of targets). */
  containing(path: string): ManifestFile | undefined {
    const at = this.index.deepestAtOrAbove(path);
    return at ? this.files[at[0]!] : undefined;
  }
}

/**
 * Every rule that the central directory alone can decide: a safe relative name, a regular
 * file or directory (never a link or device), a supported method, and a place under one of
 * the manifest's `[[files]]` targets. The deepest matching target decides the permissions.
 */
export function checkZipEntry(entry: Entry, targets: DeclaredTargets): CheckedEntry {
  const name = decodeEntryName(entry);
  if (name.length === 0) throw unsafe(name, 'empty-name', 'name is empty');
  if (name.includes('\0')) throw unsafe(name, 'no-nul', 'name contains NUL');
  if (name.includes('\\')) throw unsafe(name, 'no-backslash', 'name contains a backslash');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(name, 'absolute-path', 'name is an absolute path');
  const isDirName = name.endsWith('/');
  const path = '/' + (isDirName ? name.slice(0, -1) : name);
  if (path.split('/').includes('..')) throw unsafe(name, 'no-dotdot', 'name contains a .. segment');
  const problem = guestPathProblem(path, { noBackslash: true });
  if (problem) throw unsafe(name, problem.rule, `name ${problem.message}`);

  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) throw unsafe(name, 'no-symlink', 'is a symbolic link; links are never unpacked');
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw unsafe(name, 'regular-file', `has file type 0o${type.toString(8)}, not a regular file`);
  if (entry.isEncrypted()) throw new WarrenError('E_ZIP_INVALID', `zip entry ${JSON.stringify(name)} is encrypted`, { entry: name, rule: 'encrypted' });
  if (isDirName || type === S_IFDIR) return { kind: 'dir', name, entry };
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new WarrenError('E_ZIP_INVALID', `zip entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are supported`, {
      entry: name,
      rule: 'compression-method',
    });
  }

  const file = targets.containing(path);
  if (!file) throw unsafe(name, 'under-declared-target', `${path} is not under any [[files]] target of the manifest`);
  return { kind: 'file', name, path, entry, file };
}

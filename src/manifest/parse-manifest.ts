import { parse, TomlError } from 'smol-toml';
import { WarrenError } from '../errors.js';
import { MANIFEST_LIMITS, manifestTooLarge } from './manifest-limits.js';
import { validateManifest, type Manifest } from './validate-manifest.js';

export type { Manifest } from './validate-manifest.js';

export interface ParseManifestOptions {
  /** Only decorates messages. */
  file?: string;
  /**
   * Called with the manifest's namespace (when it is a string) right after the TOML is read,
   * before any rule is checked: the server's authorization, so a caller without rights to the
   * namespace costs no more than the parse.
   */
  checkNamespace?: (namespace: string) => void;
}

/** Parses and validates `warren.toml` (at most MANIFEST_LIMITS.maxBytes of UTF-8). */
export function parseManifest(text: string, opts: ParseManifestOptions = {}): Manifest {
  // UTF-16 units never outnumber UTF-8 bytes: only a long text needs the exact count.
  if (text.length > MANIFEST_LIMITS.maxBytes / 3) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > MANIFEST_LIMITS.maxBytes) throw manifestTooLarge(MANIFEST_LIMITS.maxBytes, size);
  }
  let obj: unknown;
  try {
    obj = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const where = `${opts.file ?? 'warren.toml'}:${err.line}:${err.column}`;
      const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new WarrenError('E_MANIFEST_SYNTAX', `TOML syntax error at ${where} (line ${err.line}, column ${err.column}): ${reason}`, {
        ...(opts.file ? { file: opts.file } : {}),
        line: err.line,
        column: err.column,
        reason,
        codeblock: err.codeblock,
      });
    }
    throw err;
  }
  const namespace = (obj as { namespace?: unknown }).namespace;
  if (opts.checkNamespace && typeof namespace === 'string') opts.checkNamespace(namespace);
  return validateManifest(obj, { file: opts.file });
}

import { parse, TomlError } from 'smol-toml';
import { WarrenError } from '../errors.js';
import { validateManifest, type Manifest } from './validate-manifest.js';

export type { Manifest } from './validate-manifest.js';

/** Parses and validates `warren.toml`. `file` only decorates messages. */
export function parseManifest(text: string, opts: { file?: string } = {}): Manifest {
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
  return validateManifest(obj, opts);
}

import { WarrenError } from '../../errors.js';

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A worker name is a DNS label: 1–63 of `[a-z0-9-]`, starting and ending with a letter or digit. */
export function validateWorkerName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new WarrenError(
      'E_BAD_REQUEST',
      `invalid worker name ${JSON.stringify(name)}: use 1-63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
      { field: 'name' },
    );
  }
  return name;
}

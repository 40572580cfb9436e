import { WarrenError } from '../../errors.js';

/** The token of an `Authorization: Bearer <token>` header; undefined when there is no header. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') {
    throw new WarrenError('E_UNAUTHORIZED', 'the Authorization header must be `Bearer <token>`');
  }
  return header.slice(space + 1).trim();
}

/**
 * Warren registry keys ↔ JetStream KV keys.
 *
 * KV keys are NATS subjects: tokens of `[-/_=a-zA-Z0-9]` joined by `.`, no empty token. Warren
 * keys are `/`-separated and hold `.`, `:` and anything else. The encoding maps each `/`
 * segment to one subject token, so a prefix made of whole segments becomes a subject wildcard
 * (`component/` → `component.>`) and the server filters it:
 *
 * - `[A-Za-z0-9_-]` stand for themselves;
 * - every other UTF-8 byte (including `.`, `:`, `=`, `/`-free punctuation, non-ASCII) is `=XX`,
 *   upper-case hex;
 * - the empty segment (`a//b`, a leading or trailing `/`) is the lone token `=`, which no
 *   non-empty segment encodes to (an escape is always three characters).
 *
 * The encoding is reversible and order of segments is kept. A prefix that ends inside a segment
 * (`component/sh.ser`) is served by the wildcard of its whole segments plus a `startsWith` check
 * on the decoded keys.
 */

const PLAIN = /[A-Za-z0-9_-]/;
const EMPTY_SEGMENT = '=';

export function encodeSegment(segment: string): string {
  if (segment === '') return EMPTY_SEGMENT;
  let out = '';
  for (const ch of segment) {
    if (PLAIN.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += '=' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function decodeSegment(token: string): string {
  if (token === EMPTY_SEGMENT) return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`not a Warren-encoded KV key token: ${token}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function encodeRegistryKey(key: string): string {
  return key.split('/').map(encodeSegment).join('.');
}

export function decodeRegistryKey(kvKey: string): string {
  return kvKey.split('.').map(decodeSegment).join('/');
}

/**
 * The subject filter that selects every key starting with `prefix` (and maybe more: callers
 * still check `startsWith` on the decoded key when the prefix ends inside a segment).
 */
export function prefixFilter(prefix: string): string {
  const whole = prefix.split('/').slice(0, -1);
  return whole.length === 0 ? '>' : whole.map(encodeSegment).join('.') + '.>';
}

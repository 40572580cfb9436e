import semver from 'semver';
import { WarrenError } from '../../errors.js';
import type { WorkerRecord, WorkerStatus } from '../../records.js';

export type FilterOp = '==' | '!=' | '>' | '<' | '>=' | '<=' | 'like' | 'startswith';
export type FilterField = 'name' | 'status' | 'version' | 'created_at' | 'component' | `env.${string}`;

export interface FilterClause {
  field: FilterField;
  op: FilterOp;
  value: string;
}

/** A parsed filter: clauses combined with `and`; the empty filter matches every worker. */
export interface WorkerFilter {
  clauses: FilterClause[];
  matches(worker: WorkerRecord): boolean;
}

const OPS: readonly FilterOp[] = ['==', '!=', '>=', '<=', '>', '<', 'like', 'startswith'];
const STATUSES: readonly WorkerStatus[] = ['idle', 'running', 'pausing', 'paused', 'resuming', 'committing', 'failed', 'deleted'];
const MAX_FILTER_LENGTH = 4096;

/**
 * Golem-style worker filters: `FIELD OP VALUE` clauses joined by `and`, e.g.
 * `status == idle and env.REGION == eu and created_at >= 2026-01-01`. Fields: name, status,
 * version (compared as semver), created_at (as dates), component, env.NAME. Operators:
 * == != > < >= <= like startswith. `like` is SQL-like (`%` any run, `_` one character); a
 * pattern without wildcards matches as a substring, as in Golem. Values may be double-quoted
 * (`name == "a b"`, `\"` and `\\` escapes). Mistakes are E_FILTER_INVALID, naming the spot.
 */
export function parseWorkerFilter(text: string | string[] | undefined): WorkerFilter {
  const parts = (Array.isArray(text) ? text : text === undefined ? [] : [text]).filter((t) => t.trim() !== '');
  const clauses = parts.flatMap((t) => parseClauses(t));
  return { clauses, matches: (w) => clauses.every((c) => matchClause(c, w)) };
}

function parseClauses(text: string): FilterClause[] {
  if (text.length > MAX_FILTER_LENGTH) throw invalid(text, `filter longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens = tokenize(text);
  const clauses: FilterClause[] = [];
  let i = 0;
  for (;;) {
    const field = tokens[i];
    const op = tokens[i + 1];
    const value = tokens[i + 2];
    if (!field || field.quoted) throw invalid(text, field ? `expected a field name, got "${field.text}"` : 'expected a field name at the end');
    const fieldName = checkField(text, field.text);
    if (!op || op.quoted || !OPS.includes(op.text.toLowerCase() as FilterOp)) {
      throw invalid(text, op ? `expected an operator (${OPS.join(' ')}) after ${field.text}, got "${op.text}"` : `expected an operator after ${field.text}`);
    }
    if (!value) throw invalid(text, `expected a value after ${field.text} ${op.text}`);
    clauses.push(checkClause(text, { field: fieldName, op: op.text.toLowerCase() as FilterOp, value: value.text }));
    i += 3;
    if (i === tokens.length) return clauses;
    const joiner = tokens[i];
    if (joiner.quoted || joiner.text.toLowerCase() !== 'and') {
      const hint = joiner.text.toLowerCase() === 'or' ? ' (only "and" is supported)' : '';
      throw invalid(text, `expected "and" after ${field.text} ${op.text} ${value.text}, got "${joiner.text}"${hint}`);
    }
    i++;
  }
}

interface Token {
  text: string;
  quoted: boolean;
}

/** Words, operators and quoted strings. `status==idle` is three tokens, as is `status == idle`. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(text, 'unterminated quoted value');
        const d = text[i];
        if (d === '\\' && i + 1 < text.length) {
          out += text[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          out += d;
          i++;
        }
      }
      tokens.push({ text: out, quoted: true });
    } else if ('=!<>'.includes(c)) {
      const two = text.slice(i, i + 2);
      const op = ['==', '!=', '>=', '<='].includes(two) ? two : c === '<' || c === '>' ? c : null;
      if (!op) throw invalid(text, `unknown operator at "${text.slice(i, i + 2)}"`);
      tokens.push({ text: op, quoted: false });
      i += op.length;
    } else {
      let j = i;
      while (j < text.length && !/\s/.test(text[j]) && !'=!<>"'.includes(text[j])) j++;
      tokens.push({ text: text.slice(i, j), quoted: false });
      i = j;
    }
  }
  if (tokens.length === 0) throw invalid(text, 'empty filter');
  return tokens;
}

function checkField(text: string, field: string): FilterField {
  if (['name', 'status', 'version', 'created_at', 'component'].includes(field)) return field as FilterField;
  if (/^env\.[^\s]+$/.test(field)) return field as FilterField;
  throw invalid(text, `unknown field "${field}" (name, status, version, created_at, component, env.NAME)`);
}

function checkClause(text: string, c: FilterClause): FilterClause {
  if (c.field === 'status') {
    if (!['==', '!='].includes(c.op)) throw invalid(text, `status takes == or !=, not ${c.op}`);
    if (!STATUSES.includes(c.value as WorkerStatus)) throw invalid(text, `unknown status "${c.value}" (${STATUSES.join(', ')})`);
  }
  if (c.field === 'version' && !['like', 'startswith'].includes(c.op) && !semver.valid(c.value)) {
    throw invalid(text, `version ${c.op} needs a semver version, got "${c.value}"`);
  }
  if (c.field === 'created_at' && !['like', 'startswith'].includes(c.op) && Number.isNaN(Date.parse(c.value))) {
    throw invalid(text, `created_at ${c.op} needs a date (ISO 8601), got "${c.value}"`);
  }
  return c;
}

function matchClause(c: FilterClause, w: WorkerRecord): boolean {
  const actual = fieldValue(c.field, w);
  if (actual === undefined) return c.op === '!=';
  if (c.op === 'like') return likeMatches(actual, c.value);
  if (c.op === 'startswith') return actual.startsWith(c.value);
  const cmp = compare(c.field, actual, c.value);
  switch (c.op) {
    case '==':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '>':
      return cmp > 0;
    case '<':
      return cmp < 0;
    case '>=':
      return cmp >= 0;
    case '<=':
      return cmp <= 0;
  }
}

function fieldValue(field: FilterField, w: WorkerRecord): string | undefined {
  if (field === 'name') return w.name;
  if (field === 'status') return w.status;
  if (field === 'version') return w.version;
  if (field === 'created_at') return w.createdAt;
  if (field === 'component') return w.component;
  return Object.prototype.hasOwnProperty.call(w.env, field.slice(4)) ? w.env[field.slice(4)] : undefined;
}

function compare(field: FilterField, a: string, b: string): number {
  if (field === 'version') return semver.compare(a, b);
  if (field === 'created_at') return Math.sign(Date.parse(a) - Date.parse(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * SQL-like match (`%` any run, `_` one character) in O(len(actual) × len(pattern)) at worst:
 * the greedy wildcard walk that backtracks only to the last `%`. A RegExp (`%` → `.*`) would
 * backtrack exponentially on patterns like `%a%a%a…%b`: a filter must not freeze the API thread.
 */
function likeMatches(actual: string, pattern: string): boolean {
  if (!pattern.includes('%') && !pattern.includes('_')) return actual.includes(pattern);
  const s = Array.from(actual);
  const p = Array.from(pattern);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (i < s.length) {
    if (j < p.length && (p[j] === '_' || (p[j] !== '%' && p[j] === s[i]))) {
      i++;
      j++;
    } else if (j < p.length && p[j] === '%') {
      star = j++;
      resume = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === '%') j++;
  return j === p.length;
}

function invalid(filter: string, message: string): WarrenError {
  return new WarrenError('E_FILTER_INVALID', `invalid worker filter: ${message}`, { filter });
}

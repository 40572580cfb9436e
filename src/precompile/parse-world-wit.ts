import { WarrenError } from '../errors.js';
import {
  WIT_PRIMITIVES, functionSignature, type ComponentWorld, type WitFunction, type WitPrimitive, type WitType, type WitTypeDef, type WorldExport,
} from './wit-types.js';

/**
 * Parses the WIT of one world as wasm-tools prints it for a component (`componentWit`): one
 * package, one world, interfaces inline. Not a general WIT parser (no packages, includes or
 * `with`): npm has none, and the printer's output is regular, so this covers what it prints.
 */
export function parseWorldWit(text: string): ComponentWorld {
  const p = new Parser(tokenize(text));
  const world: ComponentWorld = { imports: [], exports: [] };
  const worldTypes: Record<string, WitTypeDef> = {};
  const worldFunctions: WorldExport[] = [];
  while (!p.done()) {
    const word = p.word();
    if (word === 'package') p.skipPast(';');
    else if (word === 'world') {
      p.word();
      p.expect('{');
      while (!p.eat('}')) {
        const item = p.word();
        if (item === 'import' || item === 'export') {
          const name = p.externName();
          let entry: WorldExport | null = null;
          if (p.eat(':')) {
            if (p.peekWord('interface')) {
              p.word();
              const scope = parseInterfaceBody(p);
              entry = { kind: 'interface', name, ...scope };
            } else {
              const fn = parseFunctionType(p, name);
              p.expect(';');
              entry = { kind: 'function', name, function: fn, types: worldTypes };
            }
          } else p.expect(';');
          if (item === 'import') world.imports.push(entry?.kind === 'function' ? entry.function.signature : name);
          else if (entry?.kind === 'function') worldFunctions.push(entry);
          else world.exports.push(entry ?? { kind: 'interface', name, functions: [], types: {} });
        } else if (!parseTypeItem(p, item, worldTypes)) {
          throw p.error(`unexpected ${JSON.stringify(item)} in a world`);
        }
      }
    } else throw p.error(`unexpected ${JSON.stringify(word)}`);
  }
  world.exports.unshift(...worldFunctions);
  return world;
}

function parseInterfaceBody(p: Parser): { functions: WitFunction[]; types: Record<string, WitTypeDef> } {
  const functions: WitFunction[] = [];
  const types: Record<string, WitTypeDef> = {};
  p.expect('{');
  while (!p.eat('}')) {
    const word = p.word();
    if (parseTypeItem(p, word, types)) continue;
    p.expect(':');
    functions.push(parseFunctionType(p, word));
    p.expect(';');
  }
  return { functions, types };
}

/** A type definition or `use` in an interface or world; false when `word` starts none. */
function parseTypeItem(p: Parser, word: string, types: Record<string, WitTypeDef>): boolean {
  switch (word) {
    case 'use': {
      const from = p.externName();
      p.expect('.');
      p.expect('{');
      do {
        const name = p.word();
        const local = p.peekWord('as') ? (p.word(), p.word()) : name;
        types[local] = { kind: 'used', from: `${from}.${name}` };
      } while (p.eat(','));
      p.expect('}');
      p.expect(';');
      return true;
    }
    case 'type': {
      const name = p.word();
      p.expect('=');
      types[name] = { kind: 'alias', type: parseType(p) };
      p.expect(';');
      return true;
    }
    case 'record': {
      const name = p.word();
      const fields = p.list('{', '}', () => {
        const field = p.word();
        p.expect(':');
        return { name: field, type: parseType(p) };
      });
      types[name] = { kind: 'record', fields };
      return true;
    }
    case 'variant': {
      const name = p.word();
      types[name] = {
        kind: 'variant',
        cases: p.list('{', '}', () => {
          const c = p.word();
          if (!p.eat('(')) return { name: c, type: null };
          const type = parseType(p);
          p.expect(')');
          return { name: c, type };
        }),
      };
      return true;
    }
    case 'enum': {
      const name = p.word();
      types[name] = { kind: 'enum', cases: p.list('{', '}', () => p.word()) };
      return true;
    }
    case 'flags': {
      const name = p.word();
      types[name] = { kind: 'flags', flags: p.list('{', '}', () => p.word()) };
      return true;
    }
    case 'resource': {
      const name = p.word();
      types[name] = { kind: 'resource' };
      if (p.eat('{')) {
        let depth = 1;
        while (depth > 0) {
          const t = p.next();
          if (t === '{') depth++;
          else if (t === '}') depth--;
        }
      } else p.expect(';');
      return true;
    }
    default:
      return false;
  }
}

function parseFunctionType(p: Parser, name: string): WitFunction {
  if (p.peekWord('async')) p.word();
  if (p.word() !== 'func') throw p.error(`expected func after ${name}:`);
  const params = p.list('(', ')', () => {
    const param = p.word();
    p.expect(':');
    return { name: param, type: parseType(p) };
  });
  const result = p.eat('->') ? parseType(p) : null;
  return { name, params, result, signature: functionSignature(name, params, result) };
}

function parseType(p: Parser): WitType {
  const word = p.word();
  if ((WIT_PRIMITIVES as readonly string[]).includes(word)) return { kind: 'primitive', name: word as WitPrimitive };
  switch (word) {
    case 'list': {
      p.expect('<');
      const of = parseType(p);
      if (p.eat(',')) {
        const size = p.word();
        p.expect('>');
        return { kind: 'unsupported', text: `list<..., ${size}>` };
      }
      p.expect('>');
      return { kind: 'list', of };
    }
    case 'option': {
      p.expect('<');
      const of = parseType(p);
      p.expect('>');
      return { kind: 'option', of };
    }
    case 'result': {
      if (!p.eat('<')) return { kind: 'result', ok: null, err: null };
      const ok = p.eat('_') ? null : parseType(p);
      const err = p.eat(',') ? parseType(p) : null;
      p.expect('>');
      return { kind: 'result', ok, err };
    }
    case 'tuple':
      return { kind: 'tuple', of: p.list('<', '>', () => parseType(p)) };
    case 'borrow':
    case 'own': {
      p.expect('<');
      const of = p.word();
      p.expect('>');
      return word === 'borrow' ? { kind: 'borrow', of } : { kind: 'named', name: of };
    }
    case 'future':
    case 'stream': {
      let text = word;
      if (p.eat('<')) {
        text += `<${JSON.stringify(parseType(p))}>`;
        p.expect('>');
      }
      return { kind: 'unsupported', text };
    }
    default:
      return { kind: 'named', name: word };
  }
}

const PUNCT = new Set(['{', '}', '(', ')', '<', '>', ',', ';', ':', '=', '.', '/', '*', '_']);

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') i++;
    else if (c === '/' && text[i + 1] === '/') while (i < text.length && text[i] !== '\n') i++;
    else if (c === '/' && text[i + 1] === '*') i = text.indexOf('*/', i + 2) < 0 ? text.length : text.indexOf('*/', i + 2) + 2;
    else if (c === '-' && text[i + 1] === '>') {
      tokens.push('->');
      i += 2;
    } else if (c === '@') {
      // A version: `@0.2.3`, `@1.0.0-rc.1+build`.
      let j = i + 1;
      while (j < text.length && /[0-9A-Za-z.+-]/.test(text[j]!)) j++;
      while (text[j - 1] === '.') j--; // `use a:b/c@1.0.0.{x}`: the dot is the separator
      tokens.push(text.slice(i, j));
      i = j;
    } else if (c === '_' && !/[0-9A-Za-z-]/.test(text[i + 1] ?? '')) {
      tokens.push('_');
      i++;
    } else if (PUNCT.has(c)) {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      while (j < text.length && /[0-9A-Za-z%_-]/.test(text[j]!)) j++;
      if (j === i) throw new WarrenError('E_WASM_INVALID', `cannot read the component's WIT near ${JSON.stringify(text.slice(i, i + 20))}`);
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private at = 0;

  constructor(private readonly tokens: string[]) {}

  done(): boolean {
    return this.at >= this.tokens.length;
  }

  next(): string {
    const t = this.tokens[this.at++];
    if (t === undefined) throw this.error('unexpected end');
    return t;
  }

  /** An identifier; `%name` (an escaped keyword) gives `name`. */
  word(): string {
    const t = this.next();
    if (PUNCT.has(t) || t === '->') throw this.error(`expected a name, found ${JSON.stringify(t)}`);
    return t.startsWith('%') ? t.slice(1) : t;
  }

  peekWord(w: string): boolean {
    return this.tokens[this.at] === w;
  }

  eat(t: string): boolean {
    if (this.tokens[this.at] !== t) return false;
    this.at++;
    return true;
  }

  expect(t: string): void {
    if (!this.eat(t)) throw this.error(`expected ${JSON.stringify(t)}, found ${JSON.stringify(this.tokens[this.at] ?? 'the end')}`);
  }

  skipPast(t: string): void {
    while (this.next() !== t);
  }

  /** A plain name, or an interface name `ns:pkg/iface@version` (stops before `.` and `:` that follow it). */
  externName(): string {
    let name = this.word();
    if (this.tokens[this.at] === ':' && this.tokens[this.at + 2] === '/') {
      name += `:${(this.at++, this.word())}`;
      this.expect('/');
      name += `/${this.word()}`;
      const v = this.tokens[this.at];
      if (v?.startsWith('@')) name += this.next();
    } else if (this.tokens[this.at]?.startsWith('@')) name += this.next();
    return name;
  }

  /** `open item (, item)* ,? close` */
  list<T>(open: string, close: string, item: () => T): T[] {
    this.expect(open);
    const out: T[] = [];
    while (!this.eat(close)) {
      out.push(item());
      if (!this.eat(',')) {
        this.expect(close);
        break;
      }
    }
    return out;
  }

  error(why: string): WarrenError {
    return new WarrenError('E_WASM_INVALID', `cannot read the component's WIT world: ${why} (token ${this.at})`);
  }
}

import { Worker } from 'node:worker_threads';
import { WarrenError } from '../errors.js';
import { transpilerVersion } from './read-component-world.js';

export interface TranspiledComponent {
  /** The glue as the body of a function that returns `{ instantiate }` (see glueFunctionBody). */
  glue: string;
  /** Core modules by the name the glue asks `getCoreModule` for (`guest.core.wasm`, `guest.core2.wasm`...). */
  cores: { name: string; bytes: Uint8Array }[];
}

/**
 * Name and version of the transform, for artifact labels and the engine id. Version 3: every
 * core module's mutable globals exported and the glue's resource tables shown to Warren (full
 * snapshots of component workers).
 */
export const TRANSPILE = { name: 'jco-transpile', version: 3 } as const;

export function transpileLabel(): string {
  return `${TRANSPILE.name}@${TRANSPILE.version}(jco=${transpilerVersion()})`;
}

/**
 * One component → its core modules + JS glue, by jco's transpiler in `--instantiation sync` mode
 * (the glue imports nothing: Warren hands it every WASI import, see src/wasi2/). Runs on a
 * thread of its own: transpiling a 10 MB component takes seconds of CPU, which must not stall
 * the API thread.
 */
export function transpileComponent(bytes: Uint8Array): Promise<TranspiledComponent> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./transpile-thread.js', import.meta.url), { workerData: bytes });
    let settled = false;
    worker.once('message', (m: { ok: true; glue: string; files: [string, Uint8Array][] } | { ok: false; message: string }) => {
      settled = true;
      if (!m.ok) return reject(new WarrenError('E_WASM_INVALID', `the component cannot be transpiled: ${m.message}`));
      try {
        resolve({ glue: glueFunctionBody(m.glue), cores: m.files.filter(([n]) => n.endsWith('.wasm')).map(([name, b]) => ({ name, bytes: b })) });
      } catch (err) {
        reject(err);
      }
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new WarrenError('E_INTERNAL', `the transpile thread ended (code ${code}) without a result`));
    });
  });
}

/**
 * jco's glue is an ES module with two exports (`instantiate`, `_util`) and no imports. As the
 * body of a function it can be made synchronously on any thread (`new Function`), which a guest
 * thread needs: a job or a call instantiates inside one synchronous step. Any other module
 * syntax means jco changed its output: refused here rather than misread.
 */
export function glueFunctionBody(moduleText: string): string {
  let body = moduleText.replace(/^export (function|const) /gm, '$1 ');
  if (/^\s*(import|export)\b/m.test(body) || /\bimport\.meta\b/.test(body)) {
    throw new WarrenError('E_INTERNAL', `jco ${transpilerVersion()} emitted glue with module syntax Warren does not expect`);
  }
  // jco's debug log reads process.env (a call into C++) on every log line, ~100 per guest call:
  // a third of a typed call's time. Warren never turns it on.
  body = body.replace(/globalThis\?\.process\?\.env\?\.JCO_DEBUG/g, 'false');
  const tables = showResourceTables(body);
  // Declared at the end, not the top: the module's directive prologue stays first.
  return `${tables.body}\nlet __warrenTableSink = null;\nreturn { instantiate, tablesTracked: ${tables.all}, watchTables: (sink) => { __warrenTableSink = sink; } };\n`;
}

/**
 * The glue keeps the host resources a guest holds in tables of its own, per resource type
 * (`handleTableN`: the guest's handles, free list first; `captureTableN`: rep → host object;
 * `captureCntN`: the last rep given). A full snapshot must carry them: the guest's memory holds
 * the handle numbers. Each table is handed, as it is made, to the sink Warren sets around an
 * instantiation (see component-instance.ts); a table without a capture map (a resource the
 * component itself defines) is handed with null, and any table this patch did not reach makes
 * the glue untracked: its full snapshots are refused rather than partial.
 */
function showResourceTables(body: string): { body: string; all: boolean } {
  const declared = [...body.matchAll(/\bconst handleTable(\d+)\s*=\s*\[/g)].map((m) => m[1]);
  let shown = 0;
  body = body.replace(/^([ \t]*)HANDLE_TABLES\[(\d+)\] = handleTable(\d+);$/gm, (line, indent: string, n: string, m: string) => {
    if (n !== m) return line;
    shown++;
    const captures = new RegExp(`\\bconst captureTable${n}\\s*=\\s*new Map\\(\\)`).test(body) && new RegExp(`\\blet captureCnt${n}\\s*=`).test(body);
    const args = captures ? `captureTable${n}, () => captureCnt${n}, (v) => { captureCnt${n} = v; }` : 'null, null, null';
    return `${line}\n${indent}__warrenTableSink?.(${n}, handleTable${n}, ${args});`;
  });
  return { body, all: shown === declared.length };
}

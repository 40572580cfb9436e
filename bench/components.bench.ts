/**
 * Components (issue 18), each pair measured in this run:
 * - a typed call of a component worker's export (`add("apple", 1)`: a string and a u32 through
 *   the WIT ↔ JSON mapping, jco's glue and the componentize-js guest) against a numeric call of a
 *   core reactor's export (`mix(i64, f64, i32)`), both through the worker service (no HTTP);
 *   and the same typed call of typed_add.component.wat, whose guest does no more than `mix`
 *   does: what a typed call itself costs, without the componentize-js guest's JS engine;
 * - cold start of the 12 MB componentize-js component: transpile (jco) + compile + instantiate,
 *   against the same with the transpiled artifacts cached (artifact map hit; a fresh module cache,
 *   so V8 still compiles).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pushComponent } from '../src/services/components/push-component.js';
import { parseManifest } from '../src/manifest/parse-manifest.js';
import { createWorker } from '../src/services/workers/create-worker.js';
import { invokeWorker } from '../src/services/instances/invoke-worker.js';
import { WarrenNode } from '../src/services/warren-node.js';
import { DiskBlobs } from '../src/ports/embedded/disk-blobs.js';
import { SqliteRegistry } from '../src/ports/embedded/sqlite-registry.js';
import { engineId } from '../src/precompile/engine-id.js';
import { precompileVersion } from '../src/precompile/precompile-version.js';
import { CORE_ROLE_PREFIX, GLUE_ROLE } from '../src/precompile/precompile-component.js';
import { readComponentWorld } from '../src/precompile/read-component-world.js';
import { instantiateComponent } from '../src/runtime/component-instance.js';
import { Wasi2Host } from '../src/wasi2/wasi2-host.js';
import type { ComponentVersionRecord } from '../src/records.js';
import { fixturePath, makeTempDir } from '../test/support/temp-dir.js';
import { writeBenchResult } from './bench-result.js';
import { median } from './median-time.js';

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const WARMUP_ROUNDS = Number(process.env.WARREN_BENCH_WARMUP_ROUNDS ?? 5);

const typed = readFileSync(fixturePath('typed.component.wasm'));
const core = readFileSync(fixturePath('worker_typed.reactor.wasm'));
/** A component whose export does what `mix` does (almost nothing): the typed call's own cost. */
const typedAdd = readFileSync(fixturePath('typed_add.component.wasm'));

// Calls: one node, two workers.
const dir = makeTempDir('warren-bench-components-');
const node = await WarrenNode.open({ dataDir: join(dir.path, 'node'), jobThreads: 1 });
let typedCallMs = 0;
let numericCallMs = 0;
let typedOverNumeric = 0;
let bareTypedCallMs = 0;
let bareTypedOverNumeric = 0;
let ratioSpread = [0, 0];
const ROUNDS = 15;
const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const manifest = (name: string) => parseManifest(`name = "${name}"\nnamespace = "bench"\nversion = "1.0.0"\nbinary = "m.wasm"\n[limits]\nmemory = "512MiB"\ntimeout = "10m"\n`);
  await pushComponent(node.ctx, { manifest: manifest('typed'), module: typed });
  await pushComponent(node.ctx, { manifest: manifest('core'), module: core });
  await pushComponent(node.ctx, { manifest: manifest('add'), module: typedAdd });
  const t = await createWorker(node.ctx, { component: 'bench.typed', name: 't' });
  const c = await createWorker(node.ctx, { component: 'bench.core', name: 'c' });
  const a = await createWorker(node.ctx, { component: 'bench.add', name: 'a' });
  const N = 300;
  const per = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await fn();
    return (performance.now() - t0) / N;
  };
  // Warm-up rounds, not measured: V8 runs a module's functions as baseline (Liftoff) code first
  // and tiers the hot ones up in the background, which for the 12 MB guest takes thousands of
  // calls on a loaded machine. A worker lives long: its steady state is what is measured.
  for (let r = 0; r < WARMUP_ROUNDS; r++) {
    await per(() => invokeWorker(node.ctx, t.id, { export: 'add', args: ['apple', 1] }));
    await per(() => invokeWorker(node.ctx, c.id, { export: 'mix', args: ['1', 2.5, 3] }));
    await per(() => invokeWorker(node.ctx, a.id, { export: 'add', args: ['apple', 1] }));
  }
  // Alternated rounds: neither side gets the quieter moment. The ratio is the median of each
  // round's own ratio (typed over the numeric round right after it), which cancels the machine's
  // drift between rounds; the per-call times are the medians of the rounds.
  const typedRounds: number[] = [];
  const numericRounds: number[] = [];
  const bareRounds: number[] = [];
  const ratios: number[] = [];
  const bareRatios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    typedRounds.push(await per(() => invokeWorker(node.ctx, t.id, { export: 'add', args: ['apple', 1] })));
    numericRounds.push(await per(() => invokeWorker(node.ctx, c.id, { export: 'mix', args: ['1', 2.5, 3] })));
    bareRounds.push(await per(() => invokeWorker(node.ctx, a.id, { export: 'add', args: ['apple', 1] })));
    ratios.push(typedRounds[r]! / numericRounds[r]!);
    bareRatios.push(bareRounds[r]! / numericRounds[r]!);
  }
  bareTypedCallMs = middle(bareRounds);
  bareTypedOverNumeric = middle(bareRatios);
  typedCallMs = middle(typedRounds);
  numericCallMs = middle(numericRounds);
  typedOverNumeric = middle(ratios);
  ratioSpread = [Math.min(...ratios), Math.max(...ratios)];
} finally {
  await node.close();
}

// Cold start of the 12 MB component, transpile cached or not.
const blobs = new DiskBlobs(join(dir.path, 'store'));
const registry = new SqliteRegistry(join(dir.path, 'registry.db'));
let coldMs = 0;
let cachedMs = 0;
try {
  const module = await blobs.put(typed);
  const record: ComponentVersionRecord = {
    fq: 'bench.typed', namespace: 'bench', name: 'typed', version: '1.0.0', manifest: {}, manifestDigest: module.integrity,
    module: { digest: module.integrity, size: module.size }, extensions: [], fileTree: null, filesSize: 0,
    contentDigest: module.integrity, createdAt: new Date().toISOString(), world: await readComponentWorld(typed),
  };
  const eid = engineId('bench-components');
  const start = async () => {
    const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: eid, memoryMaxPages: 8192 });
    const cores: Record<string, WebAssembly.Module> = {};
    for (const a of map.artifacts.filter((x) => x.role.startsWith(CORE_ROLE_PREFIX))) {
      cores[a.role.slice(CORE_ROLE_PREFIX.length)] = await WebAssembly.compile(new Uint8Array(await blobs.get(a.digest)));
    }
    const glue = map.artifacts.find((x) => x.role === GLUE_ROLE)!;
    const host = new Wasi2Host({ args: [], env: {}, mounts: { mounts: [], readOnlyFiles: [] } });
    instantiateComponent({ glueKey: `${glue.digest}:${performance.now()}`, glue: Buffer.from(await blobs.get(glue.digest)).toString('utf8'), cores }, host.imports);
    host.close();
  };
  const t0 = performance.now();
  await start();
  coldMs = performance.now() - t0;
  cachedMs = await median(5, start);
} finally {
  await registry.close();
  dir.dispose();
}

writeBenchResult('components', {
  warmupCalls: WARMUP_ROUNDS * 300,
  typedCallMs: round(typedCallMs),
  numericCallMs: round(numericCallMs),
  rounds: ROUNDS,
  typedVsNumeric: round(typedOverNumeric),
  typedVsNumericRoundSpread: ratioSpread.map(round),
  goalTypedVsNumeric: 2,
  // typed_add.component.wat: the same call shape with a guest that does no more than `mix`.
  bareTypedCallMs: round(bareTypedCallMs),
  bareTypedVsNumeric: round(bareTypedOverNumeric),
  component: { name: 'typed.component.wasm', bytes: typed.length },
  coldStartMs: round(coldMs),
  cachedTranspileStartMs: round(cachedMs),
  coldVsCached: round(coldMs / cachedMs),
});

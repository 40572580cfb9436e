import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { WarrenError } from '../errors.js';
import type { Blobs, Integrity } from '../ports/blobs.js';
import type { Registry } from '../ports/registry.js';
import type { ArtifactNode } from '../records.js';
import { addArtifactNode } from './artifact-map.js';
import { exportMutableGlobals } from './export-globals.js';
import { ASYNCIFY, exportGlobalsTransform, transformLabel } from './transforms.js';

const run = promisify(execFile);
/** The features Warren's other transforms and clang's wasm32-wasi output use. */
const FEATURES = ['--enable-mutable-globals', '--enable-sign-ext', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-simd', '--enable-multivalue'];

export type AsyncifyTool = 'wasm-opt' | 'binaryen';

export interface StartAsyncifyInput {
  blobs: Blobs;
  registry: Registry;
  /** The artifact map that gains the `main:asyncify` node. */
  mapKey: string;
  /** The main image to asyncify. */
  input: Integrity;
  /** Default: native `wasm-opt` on PATH, npm binaryen in a worker thread when it is missing. */
  tool?: AsyncifyTool;
}

/**
 * Asyncify (Binaryen) of a main image, for pausing inside a call. Seconds to minutes on a big
 * module, so it runs in a child process (or a worker thread) and its result joins the artifact
 * map when done; callers start it and do not wait on a request path. The asyncified image gets
 * its own globals (asyncify's state) exported like every other mutable global.
 * Resolves with the node, or null when the map was deleted meanwhile.
 */
export async function startAsyncify(opts: StartAsyncifyInput): Promise<ArtifactNode | null> {
  const source = await opts.blobs.get(opts.input);
  let output: Uint8Array;
  let tool = opts.tool ?? 'wasm-opt';
  try {
    output = tool === 'wasm-opt' ? await asyncifyNative(source) : await asyncifyInThread(source);
  } catch (err) {
    if (opts.tool !== undefined || (err as { code?: string }).code !== 'ENOENT') throw err;
    tool = 'binaryen';
    output = await asyncifyInThread(source);
  }
  const info = await opts.blobs.put(exportMutableGlobals(output).wasm);
  const node: ArtifactNode = {
    digest: info.integrity,
    transform: `${transformLabel(ASYNCIFY, { tool })}+${transformLabel(exportGlobalsTransform)}`,
    parents: [opts.input],
    size: info.size,
    role: 'main:asyncify',
  };
  return (await addArtifactNode(opts.registry, opts.mapKey, node)) ? node : null;
}

async function asyncifyNative(source: Uint8Array): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-asyncify-'));
  try {
    await writeFile(join(dir, 'in.wasm'), source);
    await run('wasm-opt', [...FEATURES, '--asyncify', '-O1', join(dir, 'in.wasm'), '-o', join(dir, 'out.wasm')], { maxBuffer: 16 * 1024 * 1024 });
    return new Uint8Array(await readFile(join(dir, 'out.wasm')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function asyncifyInThread(source: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./asyncify-thread.js', import.meta.url), { workerData: { input: source } });
    worker.once('message', (m: { output: Uint8Array }) => resolve(m.output));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new WarrenError('E_INTERNAL', `asyncify thread exited with code ${code}`));
    });
  });
}

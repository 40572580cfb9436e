import { parentPort, workerData } from 'node:worker_threads';

/** Thread side of transpileComponent: jco's transpiler on the component bytes in workerData. */
const { transpileBytes } = (await import('@bytecodealliance/jco-transpile')) as {
  transpileBytes(bytes: Uint8Array, opts: Record<string, unknown>): Promise<{ files: Record<string, Uint8Array> }>;
};
try {
  const { files } = await transpileBytes(workerData as Uint8Array, {
    name: 'guest',
    instantiation: 'sync',
    // Numbers as jco documents them; no TypeScript, no minification, no wasm-opt.
    emitTypescriptDeclarations: false,
    base64Cutoff: 0,
  });
  const glue = Buffer.from(files['guest.js']!).toString('utf8');
  parentPort!.postMessage({ ok: true, glue, files: Object.entries(files) });
} catch (err) {
  const message = (err as { payload?: unknown }).payload ?? (err as Error).message;
  parentPort!.postMessage({ ok: false, message: String(message).split('\n')[0] });
}

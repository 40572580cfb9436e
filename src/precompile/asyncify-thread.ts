/**
 * Worker-thread entry: asyncify with npm binaryen, the fallback when no native wasm-opt is on
 * PATH. In a thread because loading binaryen and running the pass both block for seconds.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { input } = workerData as { input: Uint8Array };
const binaryen = (await import('binaryen')).default;
const module = binaryen.readBinary(input);
try {
  module.setFeatures(binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt | binaryen.Features.BulkMemory | binaryen.Features.NontrappingFPToInt | binaryen.Features.SIMD128 | binaryen.Features.Multivalue);
  binaryen.setOptimizeLevel(1);
  module.runPasses(['asyncify']);
  const output = module.emitBinary();
  parentPort!.postMessage({ output }, [output.buffer as ArrayBuffer]);
} finally {
  module.dispose();
}

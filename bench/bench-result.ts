import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a bench's JSON result where `npm run bench` collects it, and prints it. */
export function writeBenchResult(name: string, result: Record<string, unknown>): void {
  const dir = process.env.WARREN_BENCH_RESULTS ?? join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
}

/**
 * `npm run bench`: runs every `bench/*.bench.js` in its own process, one after another (each
 * measures against its own baseline in the same run), and collects their JSON results in
 * bench/results/summary.json. A bench may be skipped by name: `npm run bench -- wasi jobs`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const resultsDir = join(here, '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const summary: Record<string, unknown> = {};
for (const file of readdirSync(here).filter((f) => f.endsWith('.bench.js')).sort()) {
  const name = file.replace(/\.bench\.js$/, '');
  if (only.length && !only.includes(name)) continue;
  console.log(`\n=== bench ${name} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, file)], { stdio: 'inherit', env: { ...process.env, WARREN_BENCH_RESULTS: resultsDir } });
  const out = join(resultsDir, `${name}.json`);
  summary[name] = r.status === 0 && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { failed: true, status: r.status };
}
writeFileSync(join(resultsDir, 'summary.json'), JSON.stringify(summary, null, 2));
console.log(`\nresults: ${join(resultsDir, 'summary.json')}`);

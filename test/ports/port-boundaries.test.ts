import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../support/temp-dir.js';

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

test('services and the API reach storage through the ports, never an adapter (ports/embedded, ports/nats)', () => {
  const src = join(repoRoot, 'src');
  // WarrenNode opens the ports: the one place that picks the adapters.
  const allowed = new Set(['services/warren-node.ts']);
  const offenders: string[] = [];
  for (const file of [...sources(join(src, 'services')), ...sources(join(src, 'api'))]) {
    const rel = relative(src, file);
    if (allowed.has(rel)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/from '([^']+)'|import\('([^']+)'\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (/\/ports\/(embedded|nats)\//.test(spec)) offenders.push(`${rel} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

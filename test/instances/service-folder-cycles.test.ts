import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { parseSync } from 'oxc-parser';
import { repoRoot } from '../support/temp-dir.js';

const servicesDir = join(repoRoot, 'src', 'services');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The folder of src/services a file lies in (`workers`, `snapshots`, ...), or null for files at its top. */
function folderOf(path: string): string | null {
  const parts = relative(servicesDir, path).split(sep);
  return parts.length > 1 && !parts[0]!.startsWith('..') ? parts[0]! : null;
}

/** What the file imports or re-exports from (type-only too), and literal dynamic imports, as written. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const { module, errors } = parseSync(file, source);
  assert.deepEqual(errors, [], `${file} parses`);
  return [
    ...module.staticImports.map((i) => i.moduleRequest.value),
    ...module.staticExports.flatMap((e) => e.entries.flatMap((x) => (x.moduleRequest ? [x.moduleRequest.value] : []))),
    ...module.dynamicImports.map((d) => source.slice(d.moduleRequest.start + 1, d.moduleRequest.end - 1)),
  ];
}

/** Folder → folders its files import (type-only imports too: they tie the code together as much). */
function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(servicesDir)) {
    const from = folderOf(file);
    if (!from) continue;
    for (const fileName of importsOf(file)) {
      if (!fileName.startsWith('.')) continue;
      const to = folderOf(resolve(dirname(file), fileName));
      if (!to || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...new Set([...(edges.get(to) ?? []), relative(servicesDir, file)])]);
    }
  }
  return graph;
}

/** Each cycle between folders, as the path around it (`a → b → a`); empty when the folders form layers. */
export function folderCycles(graph: Map<string, Map<string, unknown>>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

test('the cycle finder reports a cycle between folders and none for layers', () => {
  const edges = (...to: string[]) => new Map(to.map((t) => [t, []]));
  assert.deepEqual(folderCycles(new Map([['instances', edges('snapshots', 'workers')], ['snapshots', edges('workers')]])), []);
  assert.deepEqual(folderCycles(new Map([['snapshots', edges('workers')], ['workers', edges('snapshots')]])), ['snapshots → workers → snapshots']);
});

test('workers, snapshots and instances import each other one way only', () => {
  const graph = folderGraph();
  const trio = new Set(['workers', 'snapshots', 'instances']);
  const sub = new Map([...graph].filter(([from]) => trio.has(from)).map(([from, to]) => [from, new Map([...to].filter(([t]) => trio.has(t)))]));
  const cycles = folderCycles(sub);
  const detail = cycles.map((c) => {
    const hops = c.split(' → ');
    return `${c}\n${hops.slice(1).map((to, i) => `  ${hops[i]} → ${to}: ${sub.get(hops[i]!)!.get(to)!.join(', ')}`).join('\n')}`;
  });
  assert.deepEqual(detail, []);
  // The layering the code follows (docs/decisions.md): the live-instance lifecycle on top.
  assert.equal(sub.get('workers')?.size ?? 0, 0, 'services/workers imports neither snapshots nor instances');
});

test('no folder of src/services imports another in a cycle', () => {
  const cycles = folderCycles(folderGraph());
  assert.deepEqual(cycles, []);
});

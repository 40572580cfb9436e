// Builds the WebAssembly component (WASI 0.2) test guests, from sources in the repo, with npm-only
// tools (run by build-fixtures.mjs after the C guests):
//   fixtures/c/<name>.wasm + jco's preview1 command adapter -> fixtures/components/<name>.component.wasm
//   fixtures/components/<name>/<name>.{js,wit} (componentize-js) -> fixtures/components/<name>.component.wasm
//   fixtures/components/<name>.component.wat (component text, jco's parse) -> fixtures/components/<name>.component.wasm
// Like the C guests, every build is committed and copied to fixtures/build/. Under CI (`CI=true`
// or `--check`) each one is rebuilt and compared with its committed copy:
// - adapter components (`jco new`, i.e. wasm-tools' component new) and component text (`jco parse`)
//   are deterministic: same bytes;
// - componentize-js output is NOT byte-for-byte reproducible (two builds of the same source
//   differ: the engine snapshot it embeds is not deterministic), so for those the check is that the
//   rebuild has the same WIT world (imports, exports and every type) as the committed copy.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Command components made from a committed C guest + the preview1 command adapter. */
const ADAPTED = ['wasi_probe', 'worker_echo', 'worker_reader'];
/** Components written as component-model text. */
const TEXT = ['two_memories', 'typed_add'];
/** componentize-js guests: fixtures/components/<name>/<name>.js with the world in <name>.wit. */
const COMPONENTIZED = [{ name: 'typed', world: 'typed' }];

export async function buildComponentFixtures(root, check) {
  const dir = join(root, 'fixtures/components');
  const out = join(root, 'fixtures/build');
  mkdirSync(out, { recursive: true });
  const stats = { built: 0, checked: 0, updated: [], mismatched: [], unavailable: [] };
  let jco;
  try {
    jco = await import('@bytecodealliance/jco');
  } catch {
    jco = null;
  }
  const newer = (a, b) => existsSync(b) && statSync(b).mtimeMs >= statSync(a).mtimeMs;

  for (const name of ADAPTED) {
    const source = join(root, 'fixtures/c', `${name}.wasm`);
    const committed = join(dir, `${name}.component.wasm`);
    const rel = relative(root, committed);
    if (!jco || (!check && newer(source, committed))) {
      if (!jco && !existsSync(committed)) stats.unavailable.push(rel);
    } else {
      const adapter = readFileSync(jco.preview1AdapterCommandPath());
      const fresh = await jco.componentNew(readFileSync(source), [['wasi_snapshot_preview1', adapter]]);
      stats.built++;
      await settle(committed, rel, Buffer.from(fresh), (a, b) => a.equals(b), '', check, stats);
    }
    if (existsSync(committed)) copyFileSync(committed, join(out, `${name}.component.wasm`));
  }

  for (const name of TEXT) {
    const source = join(dir, `${name}.component.wat`);
    const committed = join(dir, `${name}.component.wasm`);
    const rel = relative(root, committed);
    if (!jco || (!check && newer(source, committed))) {
      if (!jco && !existsSync(committed)) stats.unavailable.push(rel);
    } else {
      const fresh = await jco.parse(readFileSync(source, 'utf8'));
      stats.built++;
      await settle(committed, rel, Buffer.from(fresh), (a, b) => a.equals(b), '', check, stats);
    }
    if (existsSync(committed)) copyFileSync(committed, join(out, `${name}.component.wasm`));
  }

  for (const { name, world } of COMPONENTIZED) {
    const js = join(dir, name, `${name}.js`);
    const wit = join(dir, name, `${name}.wit`);
    const committed = join(dir, `${name}.component.wasm`);
    const rel = relative(root, committed);
    const fresh = !check && newer(js, committed) && newer(wit, committed) ? null : await componentize(js, wit, world);
    if (fresh === undefined) {
      if (!existsSync(committed)) stats.unavailable.push(rel);
    } else if (fresh !== null) {
      stats.built++;
      const sameWorld = async (a, b) => (await jco.componentWit(a)) === (await jco.componentWit(b));
      await settle(committed, rel, Buffer.from(fresh), sameWorld, 'its WIT world differs', check, stats);
    }
    if (existsSync(committed)) copyFileSync(committed, join(out, `${name}.component.wasm`));
  }
  return stats;
}

/** componentize-js's build, or undefined when it is not installed (a production install). */
async function componentize(js, wit, worldName) {
  let mod;
  try {
    mod = await import('@bytecodealliance/componentize-js');
  } catch {
    return undefined;
  }
  // Only what the guest uses: no wasi:http, clocks, random or stdio imports to satisfy.
  const { component } = await mod.componentize(readFileSync(js, 'utf8'), {
    witPath: wit,
    worldName,
    disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
  });
  return component;
}

/**
 * Writes a fresh build over its committed copy when `same` says they differ (under --check: records
 * the mismatch instead, `why` saying how they differ). `same` may be async (jco reads WIT worlds).
 */
async function settle(committed, rel, fresh, same, why, check, stats) {
  if (!existsSync(committed)) {
    writeFileSync(committed, fresh);
    stats.updated.push(`${rel} (new)`);
  } else if (!(await same(readFileSync(committed), fresh))) {
    if (check) stats.mismatched.push(why ? `${rel} (${why})` : rel);
    else {
      writeFileSync(committed, fresh);
      stats.updated.push(rel);
    }
  } else {
    stats.checked++;
    // The same: the committed copy stands for these sources (no rebuild at the next setup).
    if (!check) utimesSync(committed, new Date(), new Date());
  }
}

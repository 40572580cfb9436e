#!/usr/bin/env node
// Builds every test guest and example from its source in the repo:
//   fixtures/wat/*.wat          -> fixtures/build/<name>.wasm      (wabt, from npm: always built)
//   fixtures/c/*.c              -> fixtures/build/<name>.wasm      (clang --target=wasm32-wasi)
//   fixtures/c/*.reactor.c      -> fixtures/build/<name>.reactor.wasm (-mexec-model=reactor)
//   examples/<x>/src/*.{c,wat}  -> examples/<x>/build/<name>.wasm
//
// A C guest's build is committed beside its source (`fixtures/c/hello.c` -> `fixtures/c/hello.wasm`),
// so that a machine with Node and npm only (no clang, no wasi-libc) runs the demo and the tests
// from the committed bytes. Where the toolchain exists, every C guest is rebuilt and compared
// with its committed copy: under CI (`CI=true`, or `--check`) a difference fails the build;
// elsewhere the committed copy is updated and named, to be committed with its source.
// clang's wasm output carries no paths or times: the same clang and wasi-libc give the same bytes.
// `WARREN_NO_CLANG=1` behaves as if clang were missing (what a fresh machine does).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildComponentFixtures } from './build-component-fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check') || process.env.CI === 'true';
const scratch = mkdtempSync(join(tmpdir(), 'warren-fixtures-'));
let wabt;
const stats = { built: 0, copied: 0, checked: 0, updated: [], mismatched: [], missing: [] };

function sameBytes(a, b) {
  return existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

function upToDate(src, out) {
  return existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs;
}

/** clang that can build for wasm32-wasi (wasi-libc's headers and libc, the wasm32 builtins). */
function findToolchain() {
  if (process.env.WARREN_NO_CLANG === '1') return { ok: false, why: 'WARREN_NO_CLANG=1' };
  const src = join(scratch, 'probe.c');
  writeFileSync(src, '#include <stdio.h>\nint main(void) { puts("ok"); return 0; }\n');
  const r = spawnSync('clang', ['--target=wasm32-wasi', '-O2', '-o', join(scratch, 'probe.wasm'), src], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: r.error.code === 'ENOENT' ? 'clang is not on PATH' : r.error.message };
  if (r.status !== 0) return { ok: false, why: `clang cannot build for wasm32-wasi: ${r.stderr.trim().split('\n')[0]}` };
  return { ok: true };
}

async function buildWat(src, out) {
  wabt ??= await (await import('wabt')).default();
  const mod = wabt.parseWat(basename(src), readFileSync(src, 'utf8'), {
    multi_value: true, bulk_memory: true, mutable_globals: true, sign_extension: true, sat_float_to_int: true,
  });
  const { buffer } = mod.toBinary({});
  mod.destroy();
  writeFileSync(out, buffer);
}

function compileC(src, out) {
  const args = ['--target=wasm32-wasi', '-O2', '-Wall', '-o', out, src];
  if (src.endsWith('.reactor.c')) args.unshift('-mexec-model=reactor');
  execFileSync('clang', args, { stdio: 'inherit' });
}

/** A C guest: rebuilt and checked against its committed copy where clang is, copied from it where not. */
function buildC(src, out, toolchain) {
  const committed = src.replace(/\.c$/, '.wasm');
  const rel = relative(root, committed);
  // Under CI every C guest is rebuilt: the check is the point.
  if (!(check && toolchain.ok) && upToDate(src, out) && sameBytes(out, committed)) return;
  if (!toolchain.ok) {
    if (!existsSync(committed)) {
      stats.missing.push(rel);
      return;
    }
    copyFileSync(committed, out);
    stats.copied++;
    return;
  }
  const fresh = join(scratch, basename(committed));
  compileC(src, fresh);
  stats.built++;
  if (!existsSync(committed)) {
    copyFileSync(fresh, committed);
    stats.updated.push(`${rel} (new)`);
  } else if (!sameBytes(fresh, committed)) {
    if (check) stats.mismatched.push(rel);
    else {
      copyFileSync(fresh, committed);
      stats.updated.push(rel);
    }
  } else {
    stats.checked++;
  }
  copyFileSync(check ? committed : fresh, out);
}

async function buildDir(srcDir, outDir, toolchain) {
  if (!existsSync(srcDir)) return;
  for (const f of readdirSync(srcDir).sort()) {
    const src = join(srcDir, f);
    const name = f.replace(/\.(wat|c)$/, '');
    if (name === f) continue;
    const out = join(outDir, `${name}.wasm`);
    mkdirSync(outDir, { recursive: true });
    if (f.endsWith('.wat')) {
      if (upToDate(src, out)) continue;
      await buildWat(src, out);
      stats.built++;
    } else {
      buildC(src, out, toolchain);
    }
  }
}

try {
  const toolchain = findToolchain();
  if (!toolchain.ok) console.log(`fixtures: no C toolchain for wasm32-wasi (${toolchain.why}): C guests come from their committed builds`);
  await buildDir(join(root, 'fixtures/wat'), join(root, 'fixtures/build'), toolchain);
  await buildDir(join(root, 'fixtures/c'), join(root, 'fixtures/build'), toolchain);
  const examples = join(root, 'examples');
  if (existsSync(examples)) {
    for (const ex of readdirSync(examples).sort()) await buildDir(join(examples, ex, 'src'), join(examples, ex, 'build'), toolchain);
  }
  console.log(`fixtures: ${stats.built} built, ${stats.checked} C builds identical to their committed copies, ${stats.copied} copied from committed builds, the rest up to date`);
  // After the C guests: some components are made from their committed builds.
  const components = await buildComponentFixtures(root, check);
  console.log(`fixtures: ${components.built} components built, ${components.checked} identical to their committed copies (componentize-js ones: same WIT world)`);
  stats.updated.push(...components.updated);
  stats.mismatched.push(...components.mismatched);
  if (components.unavailable.length) {
    console.error(`fixtures: no committed build for ${components.unavailable.join(', ')}, and no jco/componentize-js to build it (npm install with dev dependencies)`);
    process.exitCode = 1;
  }
  for (const u of stats.updated) console.log(`fixtures: updated the committed build ${u}: commit it with its source`);
  if (stats.missing.length) {
    console.error(`fixtures: no committed build for ${stats.missing.join(', ')}, and no clang to build it: install Debian's clang lld wasi-libc libclang-rt-dev-wasm32`);
    process.exitCode = 1;
  }
  if (stats.mismatched.length) {
    console.error(`fixtures: rebuilding from source does not give the committed bytes of ${stats.mismatched.join(', ')}: rebuild them (node scripts/build-fixtures.mjs without CI=true) and commit`);
    process.exitCode = 1;
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

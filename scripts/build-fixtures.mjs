#!/usr/bin/env node
// Builds every test guest and example from its source in the repo:
//   fixtures/wat/*.wat          -> fixtures/build/<name>.wasm      (wabt, npm)
//   fixtures/c/*.c              -> fixtures/build/<name>.wasm      (clang --target=wasm32-wasi)
//   fixtures/c/*.reactor.c      -> fixtures/build/<name>.reactor.wasm (-mexec-model=reactor)
//   examples/<x>/src/*.{c,wat}  -> examples/<x>/build/<name>.wasm
// Outputs newer than their source are kept. Fails loudly when clang for wasm32-wasi is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let wabt;

function upToDate(src, out) {
  return existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs;
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

function buildC(src, out) {
  const args = ['--target=wasm32-wasi', '-O2', '-Wall', '-o', out, src];
  if (src.endsWith('.reactor.c')) args.unshift('-mexec-model=reactor');
  execFileSync('clang', args, { stdio: 'inherit' });
}

async function buildDir(srcDir, outDir) {
  if (!existsSync(srcDir)) return 0;
  let built = 0;
  for (const f of readdirSync(srcDir).sort()) {
    const src = join(srcDir, f);
    const name = f.replace(/\.(wat|c)$/, '');
    if (name === f) continue;
    const out = join(outDir, `${name}.wasm`);
    if (upToDate(src, out)) continue;
    mkdirSync(outDir, { recursive: true });
    if (f.endsWith('.wat')) await buildWat(src, out);
    else buildC(src, out);
    built++;
  }
  return built;
}

let built = 0;
built += await buildDir(join(root, 'fixtures/wat'), join(root, 'fixtures/build'));
built += await buildDir(join(root, 'fixtures/c'), join(root, 'fixtures/build'));
const examples = join(root, 'examples');
if (existsSync(examples)) {
  for (const ex of readdirSync(examples)) {
    built += await buildDir(join(examples, ex, 'src'), join(examples, ex, 'build'));
  }
}
console.log(`fixtures: ${built} built, the rest up to date`);

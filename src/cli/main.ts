import { Command, CommanderError } from 'commander';
import { isWarrenError } from '../errors.js';
import { registerComponentCommand } from './commands/component.js';
import { registerRunCommand } from './commands/run.js';
import { registerServeCommand } from './commands/serve.js';
import { registerAdminCommand } from './commands/admin.js';
import { registerExecCommand } from './commands/exec.js';
import { registerTokenCommand } from './commands/token.js';
import { registerLoginCommand } from './commands/login.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerConsoleCommand } from './commands/console.js';

export function buildProgram(): Command {
  const program = new Command('warren')
    .description('Warren: a host for sandboxed WebAssembly — publish components, run jobs, keep workers')
    // No .version(): commander would take `--version` anywhere on the line, also from
    // `warren worker update w_… --version 1.1.0`; main() answers `warren --version` itself.
    .option('--server <url>', 'Warren server URL (default $WARREN_SERVER, the config file, then http://127.0.0.1:7070)')
    .option('--token <token>', 'API token (default $WARREN_TOKEN, then the file `warren login` writes: $WARREN_HOME/config.toml or ~/.config/warren/config.toml)')
    .option('--local', 'run against an embedded node in this process: no server needed')
    .option('--data <dir>', 'data directory for --local and serve (default $WARREN_HOME or ~/.warren)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    // --json, --server, --token, --local and --data appear in every subcommand's --help.
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      `
warren --version prints the version.

A five-minute tour:
  warren --local component push examples/loudify
  echo "let it all out" | warren --local run sh.serval.loudify
  warren serve --port 7070 &            # then the same without --local
  warren exec fixtures/c/wasi_probe.wasm --dir ./data::/data:ro -- read /data/notes.txt
  (README.md has the whole tour; test/readme runs it as written)
`,
    );
  registerServeCommand(program);
  registerComponentCommand(program);
  registerRunCommand(program);
  registerWorkerCommand(program);
  registerExecCommand(program);
  registerTokenCommand(program);
  registerLoginCommand(program);
  registerConsoleCommand(program);
  registerAdminCommand(program);
  return program;
}

export const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<void> {
  // `warren --version` / `warren -V`: only as the first word, so a subcommand's own --version is its own.
  if (argv[2] === '--version' || argv[2] === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const json = argv.includes('--json');
    if (isWarrenError(err)) {
      if (json) process.stderr.write(JSON.stringify({ error: err.toJSON() }) + '\n');
      else process.stderr.write(`warren: ${err.code}: ${err.message}\n`);
      process.exitCode = exitCodeFor(err.code);
      return;
    }
    throw err;
  }
}

/** Exit statuses scripts can rely on: 124 for timeouts (like timeout(1)), 2 for usage, 1 otherwise. */
function exitCodeFor(code: string): number {
  if (code === 'E_TIMEOUT') return 124;
  if (code === 'E_BAD_REQUEST' || code === 'E_BAD_ARGS') return 2;
  return 1;
}

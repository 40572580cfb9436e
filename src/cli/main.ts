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
    .version('0.1.0')
    .option('--server <url>', 'Warren server URL (default $WARREN_SERVER, the config file, then http://127.0.0.1:7070)')
    .option('--token <token>', 'API token (default $WARREN_TOKEN, then ~/.config/warren/config.toml)')
    .option('--local', 'run against an embedded node in this process: no server needed')
    .option('--data <dir>', 'data directory for --local and serve (default $WARREN_HOME or ~/.warren)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
A five-minute tour:
  warren --local component push examples/loudify
  echo "let it all out" | warren --local run sh.serval.loudify
  warren serve --port 7070 &            # then the same without --local
  warren exec fixtures/build/hello.wasm --dir ./data::/data:ro -- arg1
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

export async function main(argv: string[]): Promise<void> {
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

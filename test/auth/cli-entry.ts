/**
 * A `warren` with only the token and login commands (and the global options), run as a child
 * process by cli.test.ts: real argv, stdout, stderr and exit codes.
 */
import { Command, CommanderError } from 'commander';
import { isWarrenError } from '../../src/errors.js';
import { registerLoginCommand } from '../../src/cli/commands/login.js';
import { registerTokenCommand } from '../../src/cli/commands/token.js';

const program = new Command('warren')
  .option('--server <url>')
  .option('--token <token>')
  .option('--local')
  .option('--data <dir>')
  .option('--json')
  .exitOverride();
registerTokenCommand(program);
registerLoginCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else if (isWarrenError(err)) {
    process.stderr.write(`warren: ${err.code}: ${err.message}\n`);
    process.exitCode = 1;
  } else throw err;
}

import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { WarrenError } from '../../errors.js';
import { withConnection, type GlobalOptions } from '../connect.js';
import { printJson } from '../output.js';

/**
 * `warren console [--open]`: a one-time link that logs a browser in to the web console with
 * this CLI's token (the browser never sees the token: the link's secret is exchanged for a
 * session cookie, once, within 5 minutes).
 */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description("print a one-time link that logs a browser in to the web console (/ui) with this CLI's token")
    .addHelpText('after', '\nExamples:\n  warren console\n  warren console --open\n  warren console --json   # {url, expiresAt}\n')
    .option('--open', 'open the link in the default browser too')
    .action(async (opts: { open?: boolean }, cmd: Command) => {
      if (cmd.optsWithGlobals<GlobalOptions>().local) {
        throw new WarrenError('E_BAD_ARGS', 'the console needs a running server (`warren serve`): --local stops its node when the command ends');
      }
      await withConnection(cmd, async (client, g) => {
        const link = await client.json<{ path: string; expiresAt: string }>('POST', '/v1/console/links');
        const url = new URL(link.path, client.opts.server).toString();
        if (g.json) printJson({ url, expiresAt: link.expiresAt });
        else process.stdout.write(`${url}\n`);
        if (!g.json) process.stderr.write(`one-time link, good until ${link.expiresAt}\n`);
        if (opts.open) await openInBrowser(url);
      });
    });
}

/** The platform's own opener; a failure to open is reported, the link is printed anyway. */
function openInBrowser(url: string): Promise<void> {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.once('error', (err) => {
      process.stderr.write(`could not open a browser (${cmd}: ${err.message}): open the link above by hand\n`);
      resolve();
    });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

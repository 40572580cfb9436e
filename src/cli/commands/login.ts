import type { Command } from 'commander';
import { ApiClient, readAll } from '../api-client.js';
import { clientConfigPath, readClientConfigFile, writeClientConfig, DEFAULT_SERVER } from '../client-config.js';
import type { GlobalOptions } from '../connect.js';
import { printJson } from '../output.js';
import { WarrenError } from '../../errors.js';

/** What `GET /v1/whoami` answers. */
export interface WhoAmI {
  sub: string;
  role: string;
  namespaces: string[];
  jti: string;
  expiresAt: string;
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('check a token against a server and save both in the client config file (0600): $WARREN_HOME/config.toml or ~/.config/warren/config.toml')
    .option('--token-stdin', 'read the token from stdin (keeps it out of shell history and ps)')
    .addHelpText('after', '\nUses the global --server and --token. The config file is $WARREN_HOME/config.toml when WARREN_HOME is set, else $XDG_CONFIG_HOME/warren/config.toml or ~/.config/warren/config.toml.\n\nExamples:\n  warren login --server https://warren.example --token v4.public…\n  warren token create --role project --namespace sh.serval | warren login --server https://warren.example --token-stdin\n  WARREN_HOME=/srv/warren-a warren login --token "$(cat /srv/warren-a/admin.token)" --json\n')
    .action(async (opts: { tokenStdin?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const path = clientConfigPath();
      const saved = readClientConfigFile(path);
      const server = g.server || process.env.WARREN_SERVER || saved.server || DEFAULT_SERVER;
      const token = opts.tokenStdin ? (await readAll(process.stdin)).toString('utf8').trim() : g.token || process.env.WARREN_TOKEN;
      if (!token) throw new WarrenError('E_BAD_REQUEST', 'warren login needs a token: --token <token>, --token-stdin or $WARREN_TOKEN');
      const me = await new ApiClient({ server, token }).json<WhoAmI>('GET', '/v1/whoami');
      writeClientConfig({ server, token }, path);
      if (g.json) return printJson({ server, config: path, principal: me });
      const scope = me.namespaces.length ? ` for ${me.namespaces.join(', ')}` : '';
      process.stdout.write(`logged in to ${server} as ${me.sub} (${me.role}${scope}), token expires ${me.expiresAt}\nsaved in ${path}\n`);
    });
}

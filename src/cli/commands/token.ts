import { Option, type Command } from 'commander';
import { withConnection } from '../connect.js';
import { printJson, printTable } from '../output.js';

/** A token record as the API lists it. */
export interface TokenListing {
  jti: string;
  sub: string;
  role: string;
  namespaces: string[];
  issuedAt: string;
  expiresAt: string;
  revoked: boolean;
  status: 'active' | 'expired' | 'revoked';
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerTokenCommand(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens (admin)');

  token
    .command('create')
    .description('create a token; prints the token alone on stdout (details on stderr), e.g. TOKEN=$(warren token create ...)')
    .addOption(new Option('--role <role>', 'what the token may do').choices(['admin', 'project', 'shared-reader', 'node']).makeOptionMandatory())
    .option('--namespace <ns>', 'a namespace a project token may use (repeat for more)', collect, [] as string[])
    .option('--ttl <ttl>', 'lifetime: 90s, 15m, 12h, 30d, 2w (the duration grammar of manifests and flags)', '30d')
    .option('--sub <name>', 'who the token is for (shown by token ls)')
    .addHelpText('after', '\nExamples:\n  warren token create --role project --namespace sh.serval --ttl 30d\n  TOKEN=$(warren token create --role shared-reader --ttl 12h --sub grafana)\n  warren token create --role node --ttl 2w --json\n\nDurations: ms, s, m, h, d, w (30d, 12h, 1.5h); a token lives at most 3 years.\n')
    .action(async (opts: { role: string; namespace: string[]; ttl: string; sub?: string }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const body = { role: opts.role, namespaces: opts.namespace, ttl: opts.ttl, ...(opts.sub ? { sub: opts.sub } : {}) };
        const res = await client.json<{ token: string; record: TokenListing }>('POST', '/v1/tokens', body);
        if (g.json) return printJson(res);
        const r = res.record;
        const scope = r.namespaces.length ? ` namespaces ${r.namespaces.join(',')}` : '';
        process.stderr.write(`created ${r.role} token ${r.jti} for ${r.sub}${scope}, expires ${r.expiresAt} (shown once: keep it secret)\n`);
        process.stdout.write(res.token + '\n');
      });
    });

  token
    .command('ls')
    .description('list tokens (ids, roles, expiry, status; never the token texts)')
    .addHelpText('after', '\nExamples:\n  warren token ls\n  warren token ls --json\n')
    .action(async (_opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const { tokens } = await client.json<{ tokens: TokenListing[] }>('GET', '/v1/tokens');
        if (g.json) return printJson(tokens);
        printTable(tokens as unknown as Record<string, unknown>[], ['jti', 'sub', 'role', 'namespaces', 'expiresAt', 'status']);
      });
    });

  token
    .command('revoke')
    .argument('<jti>', 'the token id (from token ls)')
    .description('revoke a token: every request with it is refused from now on')
    .addHelpText('after', '\nExamples:\n  warren token revoke 01JD…   # a jti from warren token ls\n  warren token revoke 01JD… --json\n')
    .action(async (jti: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const record = await client.json<TokenListing>('DELETE', `/v1/tokens/${encodeURIComponent(jti)}`);
        if (g.json) return printJson(record);
        process.stdout.write(`revoked ${record.jti} (${record.role} token for ${record.sub})\n`);
      });
    });
}

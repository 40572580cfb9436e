import { buildApp } from '../api/build-app.js';
import { WarrenNode } from '../services/warren-node.js';

/** An embedded node served on 127.0.0.1 (random port) for `--local` commands. */
export async function startLocalServer(opts: { dataDir?: string }): Promise<{ url: string; token: string; close: () => Promise<void> }> {
  const node = await WarrenNode.open({ dataDir: opts.dataDir });
  const app = await buildApp({ node });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { token } = await node.tokens.issue({ sub: 'local-cli', role: 'admin', ttlMs: 60 * 60 * 1000 });
  return {
    url,
    token,
    close: async () => {
      await app.close();
      await node.close();
    },
  };
}

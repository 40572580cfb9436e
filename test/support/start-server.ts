import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/build-app.js';
import { routePlugins } from '../../src/api/route-plugins.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { WarrenNode, type WarrenNodeOptions } from '../../src/services/warren-node.js';
import { makeTempDir } from './temp-dir.js';

export interface TestServer {
  url: string;
  app: FastifyInstance;
  adminToken: string;
  node: WarrenNode;
  client: ApiClient;
  dataDir: string;
  close(): Promise<void>;
}

/** A real node on a temp data dir, served over real HTTP on 127.0.0.1 with a real admin token. */
export async function startTestServer(opts: Partial<WarrenNodeOptions> & { dev?: boolean; dataDir?: string } = {}): Promise<TestServer> {
  const tmp = opts.dataDir ? null : makeTempDir('warren-api-');
  const dataDir = opts.dataDir ?? tmp!.path;
  const node = await WarrenNode.open({ jobThreads: 2, ...opts, dataDir });
  const app = await buildApp({ node, dev: opts.dev, plugins: routePlugins });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { token } = await node.tokens.issue({ sub: 'test-admin', role: 'admin', ttlMs: 3600_000 });
  return {
    url,
    app,
    adminToken: token,
    node,
    dataDir,
    client: new ApiClient({ server: url, token }),
    async close() {
      await app.close();
      await node.close();
      tmp?.dispose();
    },
  };
}

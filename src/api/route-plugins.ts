import type { FastifyInstance } from 'fastify';
import type { WarrenNode } from '../services/warren-node.js';
import { clusterRoutes } from './cluster/cluster-routes.js';

/** Route plugins beyond components/jobs/blobs/admin, registered by `warren serve` (and tests that build the app). */
export const routePlugins: ((app: FastifyInstance, opts: { node: WarrenNode; dev: boolean }) => Promise<void>)[] = [clusterRoutes];

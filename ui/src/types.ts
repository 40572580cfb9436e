/**
 * The API's records as the console reads them: the server's own types (type-only imports, so
 * nothing of the server is bundled), narrowed where the API leaves server-side fields out.
 */
import type { ComponentVersionRecord, SnapshotRecord, TokenRecord, WorkerRecord } from '../../src/records';
import type { ComponentSummary } from '../../src/services/components/query-components';
import type { NodeStatus } from '../../src/services/cluster/node-record';
import type { WorkerFileNode } from '../../src/services/workers/list-worker-files';

export type { ComponentSummary };
export type Worker = WorkerRecord;
export type ComponentVersion = ComponentVersionRecord;
export type FileNode = WorkerFileNode;
export type Snapshot = SnapshotRecord;
/** A token as the API lists it: the record and whether it still works. */
export type TokenListing = TokenRecord & { status: 'active' | 'expired' | 'revoked' };
export type ClusterNode = NodeStatus;

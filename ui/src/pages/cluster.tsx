import { useEffect } from 'preact/hooks';
import { api } from '../api';
import type { ClusterNode } from '../types';
import { LoadStatus, Section, Table, formatBytes, formatTime, useLoad } from '../widgets';

interface Nodes {
  mode: 'cluster' | 'embedded';
  self: string;
  deadAfterMs?: number;
  nodes: ClusterNode[];
}

/** How often the page reads the nodes again: health is a moving fact (a node judged dead now may be alive at its next heartbeat). */
const REFRESH_MS = 2000;

/** Cluster members: health (heartbeat age), load, memory, blob cache use (as of each node's last eviction pass). */
export function ClusterPage() {
  const nodes = useLoad(() => api<Nodes>('GET', '/v1/cluster/nodes'), []);
  const { reload } = nodes;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const d = nodes.data;
  return (
    <>
      <h1>Cluster</h1>
      <Section title="Nodes">
        <LoadStatus load={nodes} label="Loading nodes…" />
        {d?.mode === 'embedded' && <p>This node ({d.self}) runs alone on embedded storage: there is no cluster. Start nodes with `warren serve --nats …` to make one.</p>}
        {d?.mode === 'cluster' && (
          <>
            <p>
              This is node {d.self}; a node whose heartbeat is older than {d.deadAfterMs} ms is dead and its workers move. This list is read again every {REFRESH_MS / 1000} s.{' '}
              <button type="button" class="secondary" onClick={nodes.reload}>
                Refresh
              </button>
            </p>
            <Table
              caption="Cluster nodes"
              columns={['Node', 'Health', 'Heartbeat', 'Live workers', 'Jobs running', 'Memory (RSS)', 'Blob cache', 'URL', 'Started']}
              rows={d.nodes}
              row={(n) => (
                <tr key={n.id}>
                  <td>
                    {n.id}
                    {n.id === d.self ? ' (this node)' : ''}
                  </td>
                  <td>
                    <span class={`status status-${n.alive ? 'alive' : 'dead'}`}>{n.alive ? 'alive' : 'dead'}</span>
                  </td>
                  <td>{n.heartbeatAgeMs !== undefined ? `${Math.round(n.heartbeatAgeMs)} ms ago` : ''}</td>
                  <td>{n.liveWorkers}</td>
                  <td>{n.jobsRunning}</td>
                  <td>{formatBytes(n.memory)}</td>
                  <td>{n.cacheBytes === undefined ? 'not measured yet' : `${formatBytes(n.cacheBytes)} of ${formatBytes(n.cacheBudgetBytes)}`}</td>
                  <td>{n.url}</td>
                  <td>{formatTime(n.startedAt)}</td>
                </tr>
              )}
            />
          </>
        )}
      </Section>
    </>
  );
}

import { api } from '../api';
import type { ClusterNode } from '../types';
import { Busy, ErrorBox, Section, formatBytes, formatTime, useLoad } from '../widgets';

interface Nodes {
  mode: 'cluster' | 'embedded';
  self: string;
  deadAfterMs?: number;
  nodes: ClusterNode[];
}

/** Cluster members: health (heartbeat age), load, memory, blob cache use (as of each node's last eviction pass). */
export function ClusterPage() {
  const nodes = useLoad(() => api<Nodes>('GET', '/v1/cluster/nodes'), []);
  const d = nodes.data;
  return (
    <>
      <h1>Cluster</h1>
      <Section title="Nodes">
        <ErrorBox error={nodes.error} />
        {nodes.loading && <Busy label="Loading nodes…" />}
        {d?.mode === 'embedded' && <p>This node ({d.self}) runs alone on embedded storage: there is no cluster. Start nodes with `warren serve --nats …` to make one.</p>}
        {d?.mode === 'cluster' && (
          <>
            <p>
              This is node {d.self}; a node whose heartbeat is older than {d.deadAfterMs} ms is dead and its workers move.{' '}
              <button type="button" class="secondary" onClick={nodes.reload}>
                Refresh
              </button>
            </p>
            <div class="scroll">
              <table>
                <caption class="sr">Cluster nodes</caption>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">Health</th>
                    <th scope="col">Heartbeat</th>
                    <th scope="col">Live workers</th>
                    <th scope="col">Jobs running</th>
                    <th scope="col">Memory (RSS)</th>
                    <th scope="col">Blob cache</th>
                    <th scope="col">URL</th>
                    <th scope="col">Started</th>
                  </tr>
                </thead>
                <tbody>
                  {d.nodes.map((n) => (
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
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Section>
    </>
  );
}

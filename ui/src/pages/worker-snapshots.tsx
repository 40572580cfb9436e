import { useState } from 'preact/hooks';
import { api } from '../api';
import { BASE } from '../router';
import type { Snapshot, Worker } from '../types';
import { ActionForm, Busy, ErrorBox, Link, Section, formatTime, useAction, useLoad } from '../widgets';

/** The snapshot timeline (pauses and commits, oldest first) and its actions: pause, commit, resume, fork. */
export function WorkerSnapshots({ worker: w, tick, changed }: { worker: Worker; tick: number; changed: () => void }) {
  const base = `/v1/workers/${encodeURIComponent(w.id)}`;
  const list = useLoad(() => api<{ snapshots: Snapshot[] }>('GET', `${base}/snapshots`, { query: { pauses: 'true' } }), [w.id, tick]);
  const act = useAction(async (what: 'pause' | 'resume' | 'commit') => {
    const r = await api<Record<string, unknown>>('POST', `${base}/${what}`);
    changed();
    return outcomeOf(what, r);
  });
  const commits = (list.data?.snapshots ?? []).filter((s) => s.kind === 'commit');
  const [forkName, setForkName] = useState('');
  const [forkFrom, setForkFrom] = useState('');
  const fork = useAction(async () => {
    const body = { name: forkName.trim(), ...(forkFrom ? { snapshot: forkFrom } : {}) };
    return api<{ worker: Worker; snapshot: Snapshot }>('POST', `${base}/fork`, { json: body });
  });

  return (
    <Section title="Snapshots">
      <div class="row" role="group" aria-label="Snapshot actions">
        <button type="button" onClick={() => act.run('pause')} disabled={act.busy}>
          Pause
        </button>
        <button type="button" onClick={() => act.run('commit')} disabled={act.busy}>
          Commit
        </button>
        <button type="button" onClick={() => act.run('resume')} disabled={act.busy}>
          Resume
        </button>
      </div>
      {act.busy && <Busy label="Taking the snapshot…" />}
      {act.result && !act.busy && (
        <p role="status" data-testid="snapshot-outcome">
          {act.result}
        </p>
      )}
      <ErrorBox error={act.error} />
      <ErrorBox error={list.error} />
      {list.data && (
        <ol class="timeline" aria-label="Snapshots, oldest first" data-testid="snapshot-timeline">
          {list.data.snapshots.map((s) => (
            <li key={s.id} class={s.kind}>
              <strong>{s.kind}</strong> <code>{s.id}</code> · {formatTime(s.createdAt)} · {s.scope} · {s.component}@{s.version} · node {s.node}
            </li>
          ))}
          {list.data.snapshots.length === 0 && <li>No snapshots yet.</li>}
        </ol>
      )}
      <ActionForm layout="grid" onSubmit={fork.run} busy={fork.busy} submit="Fork" busyText="Forking…">
        <label for="fork-name">Fork into a new worker named</label>
        <input id="fork-name" name="fork-name" required pattern="[a-z0-9-]{1,63}" value={forkName} onInput={(e) => setForkName(e.currentTarget.value)} />
        <label for="fork-from">From commit</label>
        <select id="fork-from" name="fork-from" value={forkFrom} onChange={(e) => setForkFrom(e.currentTarget.value)}>
          <option value="">the last commit</option>
          {commits.map((s) => (
            <option key={s.id} value={s.id}>
              {s.id} ({formatTime(s.createdAt)})
            </option>
          ))}
        </select>
      </ActionForm>
      <ErrorBox error={fork.error} />
      {fork.result && (
        <p role="status">
          Forked from {fork.result.snapshot.id}:{' '}
          <Link href={`${BASE}/workers/${encodeURIComponent(fork.result.worker.id)}`}>{fork.result.worker.name}</Link>
        </p>
      )}
    </Section>
  );
}

function outcomeOf(what: string, r: Record<string, unknown>): string {
  const snap = (r.snapshot as { id?: string } | null | undefined)?.id;
  if (what === 'pause') return r.changed === false ? 'The worker was not live: nothing to pause.' : `Paused into snapshot ${snap ?? ''}.`;
  if (what === 'resume') {
    if (!r.resumed) return 'The worker was live already: nothing to resume.';
    return r.how === 'resumed' && r.snapshot ? `Resumed from snapshot ${String(r.snapshot)}.` : 'Resumed: started afresh (no snapshot to resume from).';
  }
  return `Committed snapshot ${snap ?? ''}.`;
}

import { useState } from 'preact/hooks';
import { api } from '../api';
import { BASE, navigate } from '../router';
import type { ComponentSummary, Worker } from '../types';
import { Busy, ErrorBox, Link, Section, formatTime, lines, parsePairs, useAction, useLoad } from '../widgets';

interface WorkerPage {
  workers: Worker[];
  cursor: string | null;
}

/** Workers: the API's list with its filters (`status == idle and env.REGION == eu`), and create. */
export function WorkersPage({ query }: { query: URLSearchParams }) {
  const filter = query.get('filter') ?? '';
  const [draft, setDraft] = useState(filter);
  const [pages, setPages] = useState<Worker[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useLoad(async () => {
    const page = await api<WorkerPage>('GET', '/v1/workers', { query: { filter: filter || undefined, count: '50' } });
    setPages([page.workers]);
    setCursor(page.cursor);
    return page;
  }, [filter]);
  const more = useAction(async () => {
    const page = await api<WorkerPage>('GET', '/v1/workers', { query: { filter: filter || undefined, count: '50', cursor: cursor ?? undefined } });
    setPages((p) => [...p, page.workers]);
    setCursor(page.cursor);
  });
  const workers = pages.flat();

  return (
    <>
      <h1>Workers</h1>
      <Section title="List">
        <form
          class="row"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(`${BASE}/workers${draft ? `?filter=${encodeURIComponent(draft)}` : ''}`);
          }}
        >
          <label for="worker-filter">Filter</label>
          <input id="worker-filter" name="filter" value={draft} placeholder="status == idle and env.REGION == eu" onInput={(e) => setDraft(e.currentTarget.value)} />
          <button type="submit">Apply</button>
        </form>
        <p class="hint">Fields: name, status, version, created_at, component, env.NAME; operators == != &gt; &lt; &gt;= &lt;= like startswith; clauses joined by "and".</p>
        <ErrorBox error={list.error} />
        {list.loading && <Busy label="Loading workers…" />}
        {!list.loading && !list.error && (
          <div class="scroll">
            <table>
              <caption class="sr">Workers</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Namespace</th>
                  <th scope="col">Component</th>
                  <th scope="col">Status</th>
                  <th scope="col">Node</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <Link href={`${BASE}/workers/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                    </td>
                    <td>{w.namespace}</td>
                    <td>
                      {w.component}@{w.version}
                    </td>
                    <td>
                      <span class={`status status-${w.status}`}>{w.status}</span>
                    </td>
                    <td>{w.node}</td>
                    <td>{formatTime(w.createdAt)}</td>
                  </tr>
                ))}
                {workers.length === 0 && (
                  <tr>
                    <td colSpan={6}>No workers{filter ? ' match this filter' : ''}.</td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        )}
        {cursor && (
          <button type="button" onClick={() => more.run()} disabled={more.busy}>
            {more.busy ? 'Loading…' : 'More'}
          </button>
        )}
        <ErrorBox error={more.error} />
      </Section>
      <CreateWorker onCreated={(w) => navigate(`${BASE}/workers/${encodeURIComponent(w.id)}`)} />
    </>
  );
}

function CreateWorker({ onCreated }: { onCreated: (w: Worker) => void }) {
  const components = useLoad(() => api<{ components: ComponentSummary[] }>('GET', '/v1/components'), []);
  const [form, setForm] = useState({ component: '', version: '', name: '', env: '', args: '' });
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const create = useAction(async () => {
    const body = {
      component: form.component.trim(),
      name: form.name.trim(),
      ...(form.version.trim() ? { version: form.version.trim() } : {}),
      ...(form.env.trim() ? { env: parsePairs(form.env) } : {}),
      ...(form.args.trim() ? { args: lines(form.args) } : {}),
    };
    return api<Worker>('POST', '/v1/workers', { json: body });
  });
  const chosen = components.data?.components.find((c) => c.fq === form.component.trim());

  return (
    <Section title="Create a worker">
      <form
        class="grid"
        onSubmit={async (e) => {
          e.preventDefault();
          const w = await create.run();
          if (w) onCreated(w);
        }}
      >
        <label for="cw-component">Component</label>
        <input id="cw-component" name="component" list="cw-components" required value={form.component} onInput={set('component')} placeholder="sh.warren.counter" />
        <datalist id="cw-components">
          {components.data?.components.map((c) => (
            <option key={c.fq} value={c.fq} />
          ))}
        </datalist>
        <label for="cw-version">Version</label>
        <input id="cw-version" name="version" list="cw-versions" value={form.version} onInput={set('version')} placeholder={chosen ? `latest: ${chosen.latest}` : 'latest'} />
        <datalist id="cw-versions">
          {chosen?.versions.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
        <label for="cw-name">Name</label>
        <input id="cw-name" name="name" required pattern="[a-z0-9-]{1,63}" value={form.name} onInput={set('name')} placeholder="counter-1" />
        <label for="cw-env">Environment (KEY=VALUE per line)</label>
        <textarea id="cw-env" name="env" rows={2} value={form.env} onInput={set('env')} />
        <label for="cw-args">Arguments (one per line)</label>
        <textarea id="cw-args" name="args" rows={2} value={form.args} onInput={set('args')} />
        <div />
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create'}
        </button>
      </form>
      <ErrorBox error={create.error} />
    </Section>
  );
}

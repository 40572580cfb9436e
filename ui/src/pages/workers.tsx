import { useState } from 'preact/hooks';
import { api } from '../api';
import { BASE, navigate } from '../router';
import type { ComponentSummary, Worker } from '../types';
import { ActionForm, ErrorBox, Field, Link, LoadStatus, Section, Table, formatTime, lines, parsePairs, useAction, useForm, useLoad } from '../widgets';

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
        <LoadStatus load={list} label="Loading workers…" />
        {!list.loading && !list.error && (
          <Table
            caption="Workers"
            columns={['Name', 'Namespace', 'Component', 'Status', 'Node', 'Created']}
            rows={workers}
            empty={`No workers${filter ? ' match this filter' : ''}.`}
            row={(w) => (
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
            )}
          />
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
  const { form, bind } = useForm({ component: '', version: '', name: '', env: '', args: '' });
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
      <ActionForm
        layout="grid"
        onSubmit={async () => {
          const w = await create.run();
          if (w) onCreated(w);
        }}
        busy={create.busy}
        submit="Create"
        busyText="Creating…"
      >
        <Field id="cw-component" label="Component" {...bind('component')} list="cw-components" required placeholder="sh.warren.counter" />
        <datalist id="cw-components">
          {components.data?.components.map((c) => (
            <option key={c.fq} value={c.fq} />
          ))}
        </datalist>
        <Field id="cw-version" label="Version" {...bind('version')} list="cw-versions" placeholder={chosen ? `latest: ${chosen.latest}` : 'latest'} />
        <datalist id="cw-versions">
          {chosen?.versions.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
        <Field id="cw-name" label="Name" {...bind('name')} required pattern="[a-z0-9-]{1,63}" placeholder="counter-1" />
        <Field id="cw-env" label="Environment (KEY=VALUE per line)" {...bind('env')} rows={2} />
        <Field id="cw-args" label="Arguments (one per line)" {...bind('args')} rows={2} />
      </ActionForm>
      <ErrorBox error={create.error} />
    </Section>
  );
}

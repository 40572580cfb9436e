import { api } from '../api';
import type { TokenListing } from '../types';
import { ActionForm, ErrorBox, Field, LoadStatus, Section, Table, formatTime, useAction, useForm, useLoad } from '../widgets';

/** Tokens (admin): create with role, namespaces and lifetime; the list; revoke. */
export function TokensPage() {
  const list = useLoad(() => api<{ tokens: TokenListing[] }>('GET', '/v1/tokens'), []);
  const { form, set, bind } = useForm({ role: 'project', namespaces: '', ttl: '30d', sub: '' });
  const create = useAction(async () => {
    const namespaces = form.namespaces.split(/[\s,]+/).filter(Boolean);
    const r = await api<{ token: string; record: TokenListing }>('POST', '/v1/tokens', {
      json: { role: form.role, namespaces, ttl: form.ttl.trim(), ...(form.sub.trim() ? { sub: form.sub.trim() } : {}) },
    });
    list.reload();
    return r;
  });
  const revoke = useAction(async (jti: string) => {
    await api('DELETE', `/v1/tokens/${encodeURIComponent(jti)}`);
    list.reload();
  });

  return (
    <>
      <h1>Tokens</h1>
      <Section title="Create a token">
        <ActionForm layout="grid" onSubmit={create.run} busy={create.busy} submit="Create token" busyText="Creating…">
          <label for="tok-role">Role</label>
          <select id="tok-role" name="role" value={form.role} onChange={set('role')}>
            <option value="project">project: its namespaces</option>
            <option value="shared-reader">shared-reader: read everything</option>
            <option value="admin">admin</option>
            <option value="node">node: a cluster member</option>
          </select>
          <Field id="tok-ns" label="Namespaces (comma-separated)" {...bind('namespaces')} placeholder="sh.serval, sh.ocelot" />
          <Field id="tok-ttl" label="Lifetime" {...bind('ttl')} pattern="[0-9]+[smhdw]" placeholder="90s, 15m, 12h, 30d, 2w" />
          <Field id="tok-sub" label="For (subject)" {...bind('sub')} placeholder="role and namespaces" />
        </ActionForm>
        <ErrorBox error={create.error} />
        {create.result && (
          <div class="result" role="status">
            <label for="tok-new">New token for {create.result.record.sub} (shown once: copy it now)</label>
            <textarea id="tok-new" readOnly rows={3} value={create.result.token} data-testid="new-token" />
          </div>
        )}
      </Section>
      <Section title="All tokens">
        <LoadStatus load={list} label="Loading tokens…" />
        {!list.error && <ErrorBox error={revoke.error} />}
        {list.data && (
          <Table
            caption="Tokens, newest first"
            columns={['Id', 'For', 'Role', 'Namespaces', 'Expires', 'Status', 'Actions']}
            rows={list.data.tokens}
            row={(t) => (
              <tr key={t.jti}>
                <td>
                  <code>{t.jti}</code>
                </td>
                <td>{t.sub}</td>
                <td>{t.role}</td>
                <td>{t.namespaces.join(', ')}</td>
                <td>{formatTime(t.expiresAt)}</td>
                <td>
                  <span class={`status status-${t.status}`}>{t.status}</span>
                </td>
                <td>
                  {t.status === 'active' && (
                    <button
                      type="button"
                      class="danger"
                      disabled={revoke.busy}
                      aria-label={`Revoke token ${t.jti} for ${t.sub}`}
                      onClick={() => {
                        if (confirm(`Revoke the token of ${t.sub}? Every request with it fails from now on.`)) void revoke.run(t.jti);
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            )}
          />
        )}
      </Section>
    </>
  );
}

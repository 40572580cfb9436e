import { useState } from 'preact/hooks';
import { api } from '../api';
import type { TokenRecord } from '../types';
import { Busy, ErrorBox, Section, formatTime, useAction, useLoad } from '../widgets';

/** Tokens (admin): create with role, namespaces and lifetime; the list; revoke. */
export function TokensPage() {
  const list = useLoad(() => api<{ tokens: TokenRecord[] }>('GET', '/v1/tokens'), []);
  const [form, setForm] = useState({ role: 'project', namespaces: '', ttl: '30d', sub: '' });
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const create = useAction(async () => {
    const namespaces = form.namespaces.split(/[\s,]+/).filter(Boolean);
    const r = await api<{ token: string; record: TokenRecord }>('POST', '/v1/tokens', {
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
        <form
          class="grid"
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
        >
          <label for="tok-role">Role</label>
          <select id="tok-role" name="role" value={form.role} onChange={set('role')}>
            <option value="project">project: its namespaces</option>
            <option value="shared-reader">shared-reader: read everything</option>
            <option value="admin">admin</option>
            <option value="node">node: a cluster member</option>
          </select>
          <label for="tok-ns">Namespaces (comma-separated)</label>
          <input id="tok-ns" name="namespaces" value={form.namespaces} onInput={set('namespaces')} placeholder="sh.serval, sh.ocelot" />
          <label for="tok-ttl">Lifetime</label>
          <input id="tok-ttl" name="ttl" value={form.ttl} onInput={set('ttl')} pattern="[0-9]+[smhdw]" placeholder="90s, 15m, 12h, 30d, 2w" />
          <label for="tok-sub">For (subject)</label>
          <input id="tok-sub" name="sub" value={form.sub} onInput={set('sub')} placeholder="role and namespaces" />
          <div />
          <button type="submit" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create token'}
          </button>
        </form>
        <ErrorBox error={create.error} />
        {create.result && (
          <div class="result" role="status">
            <label for="tok-new">New token for {create.result.record.sub} (shown once: copy it now)</label>
            <textarea id="tok-new" readOnly rows={3} value={create.result.token} data-testid="new-token" />
          </div>
        )}
      </Section>
      <Section title="All tokens">
        <ErrorBox error={list.error ?? revoke.error} />
        {list.loading && <Busy label="Loading tokens…" />}
        {list.data && (
          <div class="scroll">
            <table>
              <caption class="sr">Tokens, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">For</th>
                  <th scope="col">Role</th>
                  <th scope="col">Namespaces</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.data.tokens.map((t) => (
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
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

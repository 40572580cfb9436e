import { useState } from 'preact/hooks';
import { api } from '../api';
import type { ComponentVersion, Worker } from '../types';
import { ActionForm, ErrorBox, Section, useAction, useLoad } from '../widgets';

/** Move the worker to another version; the API applies Golem's file rules and says what it did. */
export function WorkerUpdate({ worker: w, changed }: { worker: Worker; changed: () => void }) {
  const versions = useLoad(() => api<{ versions: ComponentVersion[] }>('GET', `/v1/components/${encodeURIComponent(w.component)}`), [w.component]);
  const [to, setTo] = useState('');
  const update = useAction(async () => {
    const r = await api<{ worker: Worker; from: string; to: string; changed: boolean }>('POST', `/v1/workers/${encodeURIComponent(w.id)}/update`, { json: { version: to } });
    changed();
    return r;
  });
  return (
    <Section title="Update">
      <p class="hint">
        Files follow the update rules: read-only → read-only replaced, read-only → read-write copied, read-only → gone deleted, read-write → read-write kept, new
        files created; read-write → read-only is refused and nothing changes. Durable volumes are kept.
      </p>
      <ActionForm layout="row" onSubmit={update.run} busy={update.busy} disabled={!to} submit="Update" busyText="Updating…">
        <label for="update-to">Version</label>
        <select id="update-to" name="version" required value={to} onChange={(e) => setTo(e.currentTarget.value)}>
          <option value="" disabled>
            choose a version
          </option>
          {versions.data?.versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
              {v.version === w.version ? ' (current)' : ''}
            </option>
          ))}
        </select>
      </ActionForm>
      <ErrorBox error={versions.error ?? update.error} />
      {update.result && (
        <p role="status" data-testid="update-outcome">
          {update.result.changed ? `Moved from ${update.result.from} to ${update.result.to}: the files were placed by the rules above; the next call starts the new version.` : `Already at ${update.result.to}: nothing changed.`}
        </p>
      )}
    </Section>
  );
}

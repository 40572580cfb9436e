import { api } from '../api';
import { BASE } from '../router';
import type { ComponentSummary, ComponentVersion } from '../types';
import type { ComponentWorld, WitScope } from '../../../src/precompile/wit-types';
import { typeDefText } from '../../../src/precompile/wit-types';
import { Busy, ErrorBox, Link, LoadStatus, Section, Table, formatBytes, formatTime, useLoad } from '../widgets';

/** Components the session may see (a project token: its namespaces), as the API lists them. */
export function ComponentsPage() {
  const list = useLoad(() => api<{ components: ComponentSummary[] }>('GET', '/v1/components'), []);
  return (
    <>
      <h1>Components</h1>
      <Section title="Published">
        <LoadStatus load={list} label="Loading components…" />
        {list.data && (
          <Table
            caption="Components"
            columns={['Component', 'Latest', 'Versions', 'Description']}
            rows={list.data.components}
            empty="No components. Push one with `warren component push DIR`."
            row={(c) => (
              <tr key={c.fq}>
                <td>
                  <Link href={`${BASE}/components/${encodeURIComponent(c.fq)}`}>{c.fq}</Link>
                </td>
                <td>{c.latest}</td>
                <td>{c.versions.length}</td>
                <td>{c.description}</td>
              </tr>
            )}
          />
        )}
      </Section>
    </>
  );
}

/** One component: its push history (versions), and the chosen version's manifest, files and exports. */
export function ComponentPage({ fq, version }: { fq: string; version?: string }) {
  const shown = useLoad(() => api<{ fq: string; versions: ComponentVersion[] }>('GET', `/v1/components/${encodeURIComponent(fq)}`), [fq]);
  const versions = [...(shown.data?.versions ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const current = versions.find((v) => v.version === version) ?? versions[0];
  return (
    <>
      <p>
        <Link href={`${BASE}/components`}>← Components</Link>
      </p>
      <h1>Component {fq}</h1>
      <ErrorBox error={shown.error} />
      {shown.loading && !shown.data && <Busy label="Loading the component…" />}
      {shown.data && (
        <>
          <Section title="Push history">
            <ol class="timeline" aria-label="Versions, newest first">
              {versions.map((v) => (
                <li key={v.version}>
                  <Link href={`${BASE}/components/${encodeURIComponent(fq)}?v=${encodeURIComponent(v.version)}`} aria-current={v === current ? 'page' : undefined}>
                    {v.version}
                  </Link>{' '}
                  pushed {formatTime(v.createdAt)} · module {formatBytes(v.module.size)} · files {formatBytes(v.filesSize)}
                </li>
              ))}
            </ol>
          </Section>
          {current && <VersionDetails v={current} />}
        </>
      )}
    </>
  );
}

function VersionDetails({ v }: { v: ComponentVersion }) {
  const files = useLoad(
    () => api<{ entries: { path: string; mode: 'ro' | 'rw'; size: number }[] }>('GET', `/v1/components/${encodeURIComponent(v.fq)}/versions/${encodeURIComponent(v.version)}/files`),
    [v.fq, v.version],
  );
  return (
    <>
      <Section title={`Version ${v.version}`}>
        <dl class="facts">
          <dt>Description</dt>
          <dd>{String(v.manifest.description ?? '')}</dd>
          <dt>Module</dt>
          <dd>
            <code>{v.module.digest}</code> ({formatBytes(v.module.size)})
          </dd>
          <dt>Extensions</dt>
          <dd>{v.extensions?.length ? v.extensions.map((e) => `${e.fq}@${e.version}`).join(', ') : '—'}</dd>
          <dt>Pushed</dt>
          <dd>{formatTime(v.createdAt)}</dd>
        </dl>
        {v.world ? (
          <World world={v.world} />
        ) : (
          <p class="hint">A core module: its exports are called by name with numeric arguments (the API names the signature when arguments do not fit it).</p>
        )}
      </Section>
      <Section title="Files">
        <ErrorBox error={files.error} />
        {files.data && (
          <Table
            caption="Initial files"
            columns={['Path', 'Permissions', 'Size']}
            rows={files.data.entries}
            empty="No initial files."
            row={(e) => (
              <tr key={e.path}>
                <td>
                  <code>{e.path}</code>
                </td>
                <td>{e.mode === 'ro' ? 'read-only' : 'read-write'}</td>
                <td>{formatBytes(e.size)}</td>
              </tr>
            )}
          />
        )}
      </Section>
      <Section title="Manifest">
        <pre data-testid="manifest">{JSON.stringify(v.manifest, null, 2)}</pre>
      </Section>
    </>
  );
}

/** A component's WIT world, written as WIT: exports (functions, interfaces and their types), imports. */
function World({ world }: { world: ComponentWorld }) {
  return (
    <div data-testid="world">
      <h3>Exports</h3>
      <ul class="wit">
        {world.exports.map((e) =>
          e.kind === 'function' ? (
            <li key={e.name}>
              <code>{e.function.signature}</code>
              <Types scope={e} />
            </li>
          ) : (
            <li key={e.name}>
              <code>{e.name}</code>
              <Types scope={e} />
              <ul>
                {e.functions.map((f) => (
                  <li key={f.name}>
                    <code>{f.signature}</code>
                  </li>
                ))}
              </ul>
            </li>
          ),
        )}
      </ul>
      <h3>Imports</h3>
      {world.imports.length ? (
        <ul class="wit">
          {world.imports.map((i) => (
            <li key={i}>
              <code>{i}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">None: the component needs nothing from the host.</p>
      )}
    </div>
  );
}

function Types({ scope }: { scope: WitScope }) {
  const defs = Object.entries(scope.types ?? {});
  if (defs.length === 0) return null;
  return (
    <ul>
      {defs.map(([name, def]) => (
        <li key={name}>
          <code>{typeDefText(name, def)}</code>
        </li>
      ))}
    </ul>
  );
}

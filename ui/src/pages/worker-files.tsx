import { useState } from 'preact/hooks';
import { api, request, withQuery } from '../api';
import type { FileNode, Worker } from '../types';
import { Busy, ErrorBox, LoadStatus, Section, Table, formatBytes, formatTime, useAction, useLoad } from '../widgets';

const MAX_VIEW_BYTES = 256 * 1024;

/** A worker's files: browse directories, view a file, download it, or a directory as a zip. */
export function WorkerFiles({ worker: w, tick }: { worker: Worker; tick: number }) {
  const [path, setPath] = useState('/');
  const base = `/v1/workers/${encodeURIComponent(w.id)}`;
  const listing = useLoad(() => api<{ nodes: FileNode[] }>('GET', `${base}/files`, { query: { path } }), [w.id, path, tick]);
  const view = useAction(async (node: FileNode) => {
    if ((node.size ?? 0) > MAX_VIEW_BYTES) return { node, text: undefined };
    const res = await request('GET', `${base}/file-contents`, { query: { path: node.path } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let text: string | undefined;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = undefined; // binary: download it instead
    }
    return { node, text };
  });
  const crumbs = path.split('/').filter(Boolean);
  const nodes = [...(listing.data?.nodes ?? [])].sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1));

  return (
    <Section title="Files">
      <nav aria-label="Folder" class="row">
        <button type="button" class="secondary" onClick={() => setPath('/')}>
          /
        </button>
        {crumbs.map((c, i) => (
          <button key={i} type="button" class="secondary" onClick={() => setPath(`/${crumbs.slice(0, i + 1).join('/')}`)}>
            {c}/
          </button>
        ))}
        <a class="button" href={withQuery(`${base}/archive`, { path })} download>
          Download {path === '/' ? 'all' : path} as zip
        </a>
      </nav>
      <LoadStatus load={listing} label="Listing files…" />
      {listing.data && (
        <Table
          caption={`Files in ${path}`}
          columns={['Name', 'Size', 'Permissions', 'Modified', 'Actions']}
          rows={nodes}
          empty="Empty folder."
          row={(n) => (
            <tr key={n.path}>
              <td>
                {n.kind === 'directory' ? (
                  <button type="button" class="secondary" onClick={() => setPath(n.path)} aria-label={`Open folder ${n.name}`}>
                    {n.name}/
                  </button>
                ) : (
                  <code>{n.name}</code>
                )}
              </td>
              <td>{n.kind === 'file' ? formatBytes(n.size) : ''}</td>
              <td>{n.permissions}</td>
              <td>{formatTime(n.lastModified)}</td>
              <td class="row">
                {n.kind === 'file' ? (
                  <>
                    <button type="button" onClick={() => view.run(n)} aria-label={`View ${n.name}`}>
                      View
                    </button>
                    <a class="button" href={withQuery(`${base}/file-contents`, { path: n.path })} download={n.name} aria-label={`Download ${n.name}`}>
                      Download
                    </a>
                  </>
                ) : (
                  <a class="button" href={withQuery(`${base}/archive`, { path: n.path })} download aria-label={`Download ${n.name} as zip`}>
                    Zip
                  </a>
                )}
              </td>
            </tr>
          )}
        />
      )}
      {view.busy && <Busy label="Reading the file…" />}
      <ErrorBox error={view.error} />
      {view.result && !view.busy && (
        <div class="result">
          <h3>{view.result.node.path}</h3>
          {view.result.text === undefined ? (
            <p>{(view.result.node.size ?? 0) > MAX_VIEW_BYTES ? 'Too large to show here' : 'Not text'}: download it instead.</p>
          ) : (
            <pre data-testid="file-view">{view.result.text}</pre>
          )}
        </div>
      )}
    </Section>
  );
}

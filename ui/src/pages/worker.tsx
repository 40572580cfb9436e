import { useState } from 'preact/hooks';
import { api, ApiError, request } from '../api';
import { BASE, navigate } from '../router';
import type { Worker } from '../types';
import { ActionForm, Busy, ErrorBox, Link, Section, formatTime, useAction, useLoad } from '../widgets';
import { WorkerFiles } from './worker-files';
import { WorkerSnapshots } from './worker-snapshots';
import { WorkerUpdate } from './worker-update';

interface WorkerPart {
  worker: Worker;
  reload: () => void;
}

/** One worker: its status, invoke, files, snapshots, update. */
export function WorkerPage({ id }: { id: string }) {
  const [tick, setTick] = useState(0);
  const loaded = useLoad(() => api<Worker>('GET', `/v1/workers/${encodeURIComponent(id)}`), [id, tick]);
  const changed = () => setTick((t) => t + 1);
  const w = loaded.data;
  return (
    <>
      <p>
        <Link href={`${BASE}/workers`}>← Workers</Link>
      </p>
      <h1>Worker {w ? `${w.namespace}/${w.name}` : id}</h1>
      <ErrorBox error={loaded.error} />
      {!w && loaded.loading && <Busy label="Loading the worker…" />}
      {w && (
        <>
          <Status worker={w} reload={changed} />
          <Invoke worker={w} reload={changed} />
          <WorkerFiles worker={w} tick={tick} />
          <WorkerSnapshots worker={w} tick={tick} changed={changed} />
          <WorkerUpdate worker={w} changed={changed} />
        </>
      )}
    </>
  );
}

function Status({ worker: w }: WorkerPart) {
  const remove = useAction(async () => {
    await api('DELETE', `/v1/workers/${encodeURIComponent(w.id)}`);
    navigate(`${BASE}/workers`);
  });
  return (
    <Section title="Status">
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <span class={`status status-${w.status}`} data-testid="worker-status">
            {w.status}
          </span>
        </dd>
        <dt>Component</dt>
        <dd>
          <Link href={`${BASE}/components/${encodeURIComponent(w.component)}`}>{w.component}</Link>@{w.version}
        </dd>
        <dt>Node</dt>
        <dd>{w.node}</dd>
        <dt>Id</dt>
        <dd>
          <code>{w.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(w.createdAt)}</dd>
        <dt>Environment</dt>
        <dd>{Object.entries(w.env ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || '—'}</dd>
        <dt>Last snapshot</dt>
        <dd>{w.lastSnapshot ?? '—'}</dd>
        <dt>Last commit</dt>
        <dd>{w.lastCommit ?? '—'}</dd>
        {w.error && (
          <>
            <dt>Error</dt>
            <dd>
              <code>{w.error.code}</code> {w.error.message}
            </dd>
          </>
        )}
      </dl>
      <button
        type="button"
        class="danger"
        disabled={remove.busy}
        onClick={() => {
          if (confirm(`Delete worker ${w.name}? Its files go with it.`)) void remove.run();
        }}
      >
        Delete worker
      </button>
      <ErrorBox error={remove.error} />
    </Section>
  );
}

interface InvokeResult {
  returns?: unknown;
  /** A component's typed call: the WIT result as JSON (`{ok}`/`{err}` for results). */
  result?: unknown;
  exitCode?: string | number;
  stdout: string;
  stderr: string;
  durationMs?: number | string;
  replayed?: boolean;
}

function Invoke({ worker: w, reload }: WorkerPart) {
  const [mode, setMode] = useState<'export' | 'stdin'>('export');
  const [exportName, setExportName] = useState('');
  const [args, setArgs] = useState('[]');
  const [stdin, setStdin] = useState('');
  const [key, setKey] = useState('');
  const call = useAction(async (): Promise<InvokeResult> => {
    const headers: Record<string, string> = key.trim() ? { 'idempotency-key': key.trim() } : {};
    const path = `/v1/workers/${encodeURIComponent(w.id)}/invoke`;
    if (mode === 'export') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(args || '[]');
      } catch {
        throw new ApiError('E_BAD_REQUEST', 'the arguments must be a JSON array, e.g. [1, "2"]', 0);
      }
      return api<InvokeResult>('POST', path, { json: { export: exportName.trim(), args: parsed }, headers });
    }
    const res = await request('POST', path, {
      body: stdin,
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      query: { stdin: '1', export: exportName.trim() || undefined },
    });
    const returns = res.headers.get('x-warren-returns');
    return {
      stdout: await res.text(),
      stderr: decodeURIComponent(res.headers.get('x-warren-stderr') ?? ''),
      exitCode: res.headers.get('x-warren-exit-code') ?? undefined,
      returns: returns ? JSON.parse(returns) : undefined,
      durationMs: res.headers.get('x-warren-duration-ms') ?? undefined,
      replayed: res.headers.get('x-warren-replayed') === '1',
    };
  });
  const r = call.result;
  return (
    <Section title="Invoke">
      <ActionForm
        layout="grid"
        onSubmit={async () => {
          await call.run();
          reload();
        }}
        busy={call.busy}
        submit="Invoke"
        busyText="Calling…"
      >
        <fieldset class="span">
          <legend>Call</legend>
          <label>
            <input type="radio" name="mode" value="export" checked={mode === 'export'} onChange={() => setMode('export')} /> an export with arguments (JSON; a component's functions take WIT values)
          </label>
          <label>
            <input type="radio" name="mode" value="stdin" checked={mode === 'stdin'} onChange={() => setMode('stdin')} /> with stdin (_start, or the export named)
          </label>
        </fieldset>
        <label for="inv-export">Export</label>
        <input id="inv-export" name="export" value={exportName} required={mode === 'export'} placeholder={mode === 'export' ? 'increment' : '_start'} onInput={(e) => setExportName(e.currentTarget.value)} />
        {mode === 'export' ? (
          <>
            <label for="inv-args">Arguments (JSON array)</label>
            <input id="inv-args" name="args" value={args} onInput={(e) => setArgs(e.currentTarget.value)} />
          </>
        ) : (
          <>
            <label for="inv-stdin">Stdin</label>
            <textarea id="inv-stdin" name="stdin" rows={3} value={stdin} onInput={(e) => setStdin(e.currentTarget.value)} />
          </>
        )}
        <label for="inv-key">Idempotency key (optional)</label>
        <input id="inv-key" name="idempotency-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </ActionForm>
      {call.busy && <Busy label="Calling the worker…" />}
      <ErrorBox error={call.error} />
      {r && !call.busy && !call.error && (
        <div class="result" aria-live="polite" data-testid="invoke-result">
          <dl class="facts">
            {r.returns !== undefined && (
              <>
                <dt>Returns</dt>
                <dd>
                  <code data-testid="invoke-returns">{JSON.stringify(r.returns)}</code>
                </dd>
              </>
            )}
            {'result' in r && (
              <>
                <dt>Result</dt>
                <dd>
                  <code data-testid="invoke-result-value">{JSON.stringify(r.result)}</code>
                </dd>
              </>
            )}
            {r.exitCode !== undefined && (
              <>
                <dt>Exit code</dt>
                <dd>{String(r.exitCode)}</dd>
              </>
            )}
            {r.durationMs !== undefined && (
              <>
                <dt>Duration</dt>
                <dd>{Number(r.durationMs).toFixed(1)} ms</dd>
              </>
            )}
            {r.replayed && (
              <>
                <dt>Replayed</dt>
                <dd>yes: the result recorded for this idempotency key</dd>
              </>
            )}
          </dl>
          {r.stdout && (
            <>
              <h3>Stdout</h3>
              <pre>{r.stdout}</pre>
            </>
          )}
          {r.stderr && (
            <>
              <h3>Stderr</h3>
              <pre>{r.stderr}</pre>
            </>
          )}
        </div>
      )}
    </Section>
  );
}

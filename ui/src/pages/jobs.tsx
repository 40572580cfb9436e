import { useState } from 'preact/hooks';
import { api } from '../api';
import type { ComponentSummary } from '../types';
import { Busy, ErrorBox, Section, lines, useAction, useLoad } from '../widgets';

interface JobResult {
  fq: string;
  version: string;
  exitCode: number;
  stdout: string;
  stdoutEncoding: 'utf8' | 'base64';
  stderr: string;
  durationMs: number;
}

/** Run a component's _start once: arguments, environment, stdin; its output and exit code. */
export function JobsPage() {
  const components = useLoad(() => api<{ components: ComponentSummary[] }>('GET', '/v1/components'), []);
  const [form, setForm] = useState({ component: '', version: '', args: '', env: '', stdin: '', timeout: '' });
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const run = useAction(async () =>
    api<JobResult>('POST', `/v1/jobs/${encodeURIComponent(form.component.trim())}/run`, {
      body: form.stdin,
      headers: { 'content-type': 'application/octet-stream' },
      query: { format: 'json', version: form.version.trim() || undefined, arg: lines(form.args), env: lines(form.env), timeout: form.timeout.trim() || undefined },
    }),
  );
  const r = run.result;
  return (
    <>
      <h1>Jobs</h1>
      <Section title="Run a job">
        <form
          class="grid"
          onSubmit={(e) => {
            e.preventDefault();
            void run.run();
          }}
        >
          <label for="job-component">Component</label>
          <input id="job-component" name="component" list="job-components" required value={form.component} onInput={set('component')} placeholder="sh.serval.loudify" />
          <datalist id="job-components">
            {components.data?.components.map((c) => (
              <option key={c.fq} value={c.fq} />
            ))}
          </datalist>
          <label for="job-version">Version</label>
          <input id="job-version" name="version" value={form.version} onInput={set('version')} placeholder="latest" />
          <label for="job-args">Arguments (one per line)</label>
          <textarea id="job-args" name="args" rows={2} value={form.args} onInput={set('args')} />
          <label for="job-env">Environment (KEY=VALUE per line)</label>
          <textarea id="job-env" name="env" rows={2} value={form.env} onInput={set('env')} />
          <label for="job-timeout">Timeout</label>
          <input id="job-timeout" name="timeout" value={form.timeout} onInput={set('timeout')} placeholder="the manifest's, e.g. 5s" />
          <label for="job-stdin">Stdin</label>
          <textarea id="job-stdin" name="stdin" rows={4} value={form.stdin} onInput={set('stdin')} />
          <div />
          <button type="submit" disabled={run.busy}>
            {run.busy ? 'Running…' : 'Run'}
          </button>
        </form>
        {run.busy && <Busy label="Running the job…" />}
        <ErrorBox error={run.error} />
        {r && !run.busy && !run.error && (
          <div class="result" aria-live="polite">
            <dl class="facts">
              <dt>Exit code</dt>
              <dd data-testid="job-exit-code">{r.exitCode}</dd>
              <dt>Version</dt>
              <dd>
                {r.fq}@{r.version}
              </dd>
              <dt>Duration</dt>
              <dd>{r.durationMs.toFixed(1)} ms</dd>
            </dl>
            <h3>Stdout{r.stdoutEncoding === 'base64' ? ' (binary, base64)' : ''}</h3>
            <pre data-testid="job-stdout">{r.stdout}</pre>
            <h3>Stderr</h3>
            <pre>{r.stderr}</pre>
          </div>
        )}
      </Section>
    </>
  );
}

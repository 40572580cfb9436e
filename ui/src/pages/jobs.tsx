import { api } from '../api';
import type { ComponentSummary } from '../types';
import { ActionForm, Busy, ErrorBox, Field, Section, lines, useAction, useForm, useLoad } from '../widgets';

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
  const { form, bind } = useForm({ component: '', version: '', args: '', env: '', stdin: '', timeout: '' });
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
        <ActionForm layout="grid" onSubmit={run.run} busy={run.busy} submit="Run" busyText="Running…">
          <Field id="job-component" label="Component" {...bind('component')} list="job-components" required placeholder="sh.serval.loudify" />
          <datalist id="job-components">
            {components.data?.components.map((c) => (
              <option key={c.fq} value={c.fq} />
            ))}
          </datalist>
          <Field id="job-version" label="Version" {...bind('version')} placeholder="latest" />
          <Field id="job-args" label="Arguments (one per line)" {...bind('args')} rows={2} />
          <Field id="job-env" label="Environment (KEY=VALUE per line)" {...bind('env')} rows={2} />
          <Field id="job-timeout" label="Timeout" {...bind('timeout')} placeholder="the manifest's, e.g. 5s" />
          <Field id="job-stdin" label="Stdin" {...bind('stdin')} rows={4} />
        </ActionForm>
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

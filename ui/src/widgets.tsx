import type { ComponentChildren, InputHTMLAttributes, TextareaHTMLAttributes } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, toApiError } from './api';
import { onLinkClick } from './router';

export function Link(props: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  return (
    <a href={props.href} class={props.class} aria-current={props['aria-current']} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}

/** An API error as the API said it: its code, then its message. */
export function ErrorBox({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <code class="code">{error.code}</code> <span class="message">{error.message}</span>
    </div>
  );
}

/** Shown while a request runs: long operations (pause, push, runs) show they are going on. */
export function Busy({ label }: { label: string }) {
  return (
    <div class="busy" role="status">
      <progress aria-label={label} /> {label}
    </div>
  );
}

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}

/** Loads `fn()` when `deps` change; reload() loads it again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, loading: false }),
      (err) => live && setState({ error: toApiError(err), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A write the user starts: its busy state, its error, and its result. */
export function useAction<A extends unknown[], T>(fn: (...args: A) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [result, setResult] = useState<T>();
  const run = async (...args: A): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await fn(...args);
      setResult(() => r);
      return r;
    } catch (err) {
      setError(toApiError(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, result, setResult };
}

/** A loader's error, and `label` while it loads (again: a reload shows it too). */
export function LoadStatus({ load, label }: { load: Loaded<unknown>; label: string }) {
  return (
    <>
      <ErrorBox error={load.error} />
      {load.loading && <Busy label={label} />}
    </>
  );
}

/** A scrolling table: a caption for screen readers, column heads, a row per item, `empty` when none. */
export function Table<T>(props: { caption: ComponentChildren; columns: string[]; rows: T[]; row: (item: T) => ComponentChildren; empty?: ComponentChildren }) {
  return (
    <div class="scroll">
      <table>
        <caption class="sr">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map(props.row)}
          {props.empty !== undefined && props.rows.length === 0 && (
            <tr>
              <td colSpan={props.columns.length}>{props.empty}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A form's fields as one state object; bind(k) wires an input or textarea to field k. */
export function useForm<F extends Record<string, string>>(initial: F) {
  const [form, setForm] = useState(initial);
  const set = (k: keyof F) => (e: Event) => setForm((f) => ({ ...f, [k]: (e.currentTarget as HTMLInputElement).value }));
  const bind = (k: keyof F & string) => ({ name: k, value: form[k], onInput: set(k) });
  return { form, set, bind };
}

/** A label and its input (`textarea` for several lines). */
export function Field({ label, id, rows, ...input }: { label: string; id: string; rows?: number } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <>
      <label for={id}>{label}</label>
      {rows ? <textarea id={id} rows={rows} {...(input as TextareaHTMLAttributes<HTMLTextAreaElement>)} /> : <input id={id} {...input} />}
    </>
  );
}

/**
 * A form whose submit runs `onSubmit` (no page load) with its submit button last, saying
 * `busyText` while busy; a `grid` form keeps the button in the input column.
 */
export function ActionForm(props: { layout: 'grid' | 'row'; onSubmit: () => unknown; busy: boolean; submit: string; busyText: string; disabled?: boolean; children: ComponentChildren }) {
  return (
    <form
      class={props.layout}
      onSubmit={(e) => {
        e.preventDefault();
        void props.onSubmit();
      }}
    >
      {props.children}
      {props.layout === 'grid' && <div />}
      <button type="submit" disabled={props.busy || props.disabled}>
        {props.busy ? props.busyText : props.submit}
      </button>
    </form>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  const id = props.id ?? `s-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section aria-labelledby={id} class="card">
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** `KEY=VALUE` lines to an object (blank lines skipped). */
export function parsePairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new ApiError('E_BAD_REQUEST', `"${t}" is not KEY=VALUE`, 0);
    out[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return out;
}

export function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

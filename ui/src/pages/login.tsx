import { useState } from 'preact/hooks';
import { api, ApiError, toApiError, type Session } from '../api';
import { ErrorBox } from '../widgets';

const LINK_ERRORS: Record<string, string> = {
  E_TOKEN_INVALID: 'this login link was used already, has expired, or was never issued: run `warren console` for a new one',
  E_TOKEN_EXPIRED: 'the token behind this login link has expired',
  E_TOKEN_REVOKED: 'the token behind this login link was revoked',
};

/** Log in with a token pasted here, or arrive logged in through `warren console`'s link. */
export function LoginPage({ error, onLogin }: { error?: string; onLogin: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [failed, setFailed] = useState<ApiError | undefined>(error ? new ApiError(error, LINK_ERRORS[error] ?? 'login failed', 401) : undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailed(undefined);
    try {
      onLogin(await api<Session>('POST', '/ui/session', { json: { token: token.trim() } }));
    } catch (err) {
      setFailed(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>Warren console</h1>
      <p>
        Run <code>warren console</code> (or <code>warren console --open</code>) for a one-time login link, or paste an API token.
      </p>
      <form onSubmit={submit} class="card">
        <label for="login-token">API token</label>
        <textarea id="login-token" name="token" rows={4} required autoComplete="off" spellcheck={false} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <ErrorBox error={failed} />
    </main>
  );
}

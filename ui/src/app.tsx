import { useEffect, useState } from 'preact/hooks';
import { api, useSession, type Session, type SessionState } from './api';
import { BASE, navigate, useLocation } from './router';
import { Busy, Link } from './widgets';
import { LoginPage } from './pages/login';
import { WorkersPage } from './pages/workers';
import { WorkerPage } from './pages/worker';
import { ComponentPage, ComponentsPage } from './pages/components';
import { JobsPage } from './pages/jobs';
import { TokensPage } from './pages/tokens';
import { ClusterPage } from './pages/cluster';
import { ChartsPage } from './pages/charts';

interface NavItem {
  href: string;
  label: string;
  /** Roles whose token the API lets use the page (the API refuses the others anyway). */
  roles?: string[];
}

const NAV: NavItem[] = [
  { href: `${BASE}/components`, label: 'Components' },
  { href: `${BASE}/workers`, label: 'Workers', roles: ['admin', 'project', 'node'] },
  { href: `${BASE}/jobs`, label: 'Jobs', roles: ['admin', 'project', 'node'] },
  { href: `${BASE}/tokens`, label: 'Tokens', roles: ['admin'] },
  { href: `${BASE}/cluster`, label: 'Cluster', roles: ['admin'] },
  { href: `${BASE}/metrics`, label: 'Metrics', roles: ['admin', 'shared-reader'] },
];

/** The shell: the session (or the login page), the navigation, and the page of the path. */
export function App() {
  const url = useLocation();
  const [session, setSession] = useState<Session | null>();
  const [ended, setEnded] = useState<string>();

  useEffect(() => {
    api<SessionState>('GET', '/ui/session').then(
      (s) => {
        setSession(s.loggedIn ? s : null);
        if (!s.loggedIn && s.ended) setEnded(s.ended.code);
      },
      () => setSession(null),
    );
  }, []);
  useSession(session ?? undefined, () => setSession(null));

  if (session === undefined) return <Busy label="Loading the session…" />;
  if (session === null || url.pathname === `${BASE}/login`) {
    return (
      <LoginPage
        error={url.searchParams.get('error') ?? ended}
        onLogin={(s) => {
          setSession(s);
          navigate(`${BASE}/`, true);
        }}
      />
    );
  }

  const logout = async () => {
    await api('DELETE', '/ui/session').catch(() => undefined);
    setSession(null);
    navigate(`${BASE}/login`, true);
  };
  const p = session.principal;
  const items = NAV.filter((n) => !n.roles || n.roles.includes(p.role));
  return (
    <div class="shell">
      <header class="top">
        <Link href={`${BASE}/`} class="brand">
          Warren
        </Link>
        <nav aria-label="Pages">
          <ul>
            {items.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={url.pathname.startsWith(n.href) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who" aria-label="Signed in as">
          <span class="sub">{p.sub}</span> <span class="role">{p.role}</span>
          {p.namespaces.length > 0 && <span class="ns"> · {p.namespaces.join(', ')}</span>}
          <button type="button" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main>{page(url, items[0]?.href ?? `${BASE}/components`)}</main>
    </div>
  );
}

function page(url: URL, home: string) {
  const path = url.pathname.replace(/\/+$/, '');
  const parts = path.slice(BASE.length).split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
      return <Redirect to={home} />;
    case 'components':
      return parts[1] ? <ComponentPage fq={parts[1]} version={url.searchParams.get('v') ?? undefined} /> : <ComponentsPage />;
    case 'workers':
      return parts[1] ? <WorkerPage id={parts[1]} /> : <WorkersPage query={url.searchParams} />;
    case 'jobs':
      return <JobsPage />;
    case 'tokens':
      return <TokensPage />;
    case 'cluster':
      return <ClusterPage />;
    case 'metrics':
      return <ChartsPage />;
    default:
      return <p>No page at {url.pathname}.</p>;
  }
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

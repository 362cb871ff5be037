/** The app: the session probe, the login page, and once logged in the layout with its navigation and the current page. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, onSessionExpired, setCsrfToken, type LoginAnswer, type Session } from './api.ts';
import { AudiencePage } from './pages/audience.tsx';
import { FeedsPage } from './pages/feeds.tsx';
import { IssuesPage } from './pages/issues.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SendPage } from './pages/send.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SubscriberPage } from './pages/subscriber.tsx';
import { WatchPage } from './pages/watch.tsx';
import { WritePage } from './pages/write.tsx';
import { navigate, useRoute } from './router.ts';
import { SessionContext, type AppConfig } from './session.ts';
import { describeError, Link } from './ui.tsx';

type State = { kind: 'probing' } | { kind: 'out'; message: string | null } | { kind: 'in'; session: Session };

async function loadConfig(): Promise<AppConfig> {
  try {
    const response = await fetch('/admin/config.json', { credentials: 'same-origin' });
    return response.ok ? ((await response.json()) as AppConfig) : { inbox: false };
  } catch {
    return { inbox: false };
  }
}

export function App() {
  const [state, setState] = useState<State>({ kind: 'probing' });
  const [config, setConfig] = useState<AppConfig>({ inbox: false });

  const probe = useCallback(async () => {
    try {
      const session = await api<Session>('GET', '/auth/session', undefined, { quiet401: true });
      setCsrfToken(session.csrfToken);
      setState({ kind: 'in', session });
    } catch (error) {
      setState({ kind: 'out', message: error instanceof ApiError && error.status === 401 ? null : describeError(error) });
    }
  }, []);

  useEffect(() => {
    void probe();
    void loadConfig().then(setConfig);
    onSessionExpired(() => {
      setCsrfToken(null);
      setState({ kind: 'out', message: 'Your session expired. Log in again to carry on where you were.' });
    });
    return () => onSessionExpired(null);
  }, [probe]);

  if (state.kind === 'probing') return <p className="boot">Loading Mailroom…</p>;
  if (state.kind === 'out') return <LoginPage message={state.message} onLoggedIn={() => void probe()} />;
  return (
    <SessionContext.Provider value={{ session: state.session, config }}>
      <Layout
        onLogout={async () => {
          try {
            await api('POST', '/auth/logout');
          } finally {
            setCsrfToken(null);
            setState({ kind: 'out', message: 'You are logged out.' });
          }
        }}
      />
    </SessionContext.Provider>
  );
}

function LoginPage({ message, onLoggedIn }: { message: string | null; onLoggedIn: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const answer = await api<LoginAnswer>('POST', '/auth/login', { email: String(form.get('email') ?? ''), password: String(form.get('password') ?? '') }, { quiet401: true });
      setCsrfToken(answer.csrfToken);
      onLoggedIn();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login" id="main">
      <div className="login-card">
        <p className="brand-mark" aria-hidden="true">
          ✉
        </p>
        <h1>Mailroom</h1>
        <p className="muted">Log in to write, preview and send your newsletters.</p>
        {message ? (
          <p className="notice info" role="status">
            {message}
          </p>
        ) : null}
        {error ? (
          <p className="notice error" role="alert">
            {error}
          </p>
        ) : null}
        <form onSubmit={(e) => void submit(e)}>
          <label>
            Email
            <input type="email" name="email" autoComplete="username" required />
          </label>
          <label>
            Password
            <input type="password" name="password" autoComplete="current-password" required />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <p className="muted small">
          No account yet? Run <code>npx mailroom users create you@example.com --role owner</code> and open the link it prints.
        </p>
      </div>
    </main>
  );
}

const NAV: readonly { to: string; label: string; match: (path: string) => boolean }[] = [
  { to: '/', label: 'Overview', match: (p) => p === '/' },
  { to: '/audience', label: 'Audience', match: (p) => p.startsWith('/audience') },
  { to: '/write', label: 'Write', match: (p) => p.startsWith('/write') },
  { to: '/issues', label: 'Issues & preview', match: (p) => p.startsWith('/issues') },
  { to: '/send', label: 'Send', match: (p) => p.startsWith('/send') },
  { to: '/campaigns', label: 'Watch', match: (p) => p.startsWith('/campaigns') },
  { to: '/feeds', label: 'Feeds', match: (p) => p.startsWith('/feeds') },
  { to: '/settings', label: 'Settings', match: (p) => p.startsWith('/settings') },
];

function Layout({ onLogout }: { onLogout: () => Promise<void> }) {
  const { path, query } = useRoute();
  return (
    <SessionConsumerLayout path={path} query={query} onLogout={onLogout} />
  );
}

function SessionConsumerLayout({ path, query, onLogout }: { path: string; query: URLSearchParams; onLogout: () => Promise<void> }) {
  return (
    <SessionContext.Consumer>
      {(value) =>
        value ? (
          <div className="shell">
            <a className="skip" href="#main">
              Skip to content
            </a>
            <header className="topbar">
              <Link to="/" className="brand">
                <span aria-hidden="true">✉</span> Mailroom
              </Link>
              <div className="who">
                <span className="muted small">
                  {value.session.name} · {value.session.role}
                </span>
                <button type="button" className="ghost" onClick={() => void onLogout()}>
                  Log out
                </button>
              </div>
            </header>
            <nav className="sidenav" aria-label="Main">
              <ul>
                {NAV.map((item) => (
                  <li key={item.to}>
                    <Link to={item.to} className={item.match(path) ? 'active' : undefined}>
                      {item.label}
                    </Link>
                  </li>
                ))}
                {value.config.inbox ? (
                  <li>
                    <a href="/inbox">Local inbox ↗</a>
                  </li>
                ) : null}
              </ul>
            </nav>
            <main id="main" className="content">
              <Page path={path} query={query} />
            </main>
          </div>
        ) : null
      }
    </SessionContext.Consumer>
  );
}

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const subscriber = /^\/audience\/subscribers\/(\d+)$/.exec(path);
  if (subscriber) return <SubscriberPage key={path} id={Number(subscriber[1])} />;
  const campaign = /^\/campaigns\/(\d+)$/.exec(path);
  if (campaign) return <WatchPage key={path} id={Number(campaign[1])} />;
  switch (path) {
    case '/':
      return <OverviewPage />;
    case '/audience':
      return <AudiencePage />;
    case '/write':
      return <WritePage />;
    case '/issues':
      return <IssuesPage key={query.toString()} query={query} />;
    case '/send':
      return <SendPage key={query.toString()} query={query} />;
    case '/campaigns':
      return <WatchPage id={null} />;
    case '/feeds':
      return <FeedsPage />;
    case '/settings':
      return <SettingsPage />;
    default:
      return (
        <div>
          <h1>Not found</h1>
          <p>
            There is no page {path} in Mailroom. <button type="button" className="linkish" onClick={() => navigate('/')}>Go to the overview</button>.
          </p>
        </div>
      );
  }
}

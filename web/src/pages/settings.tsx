/** Settings: the effective settings (read-only) and, for the owner, users and API tokens. */
import { useState, type FormEvent } from 'react';
import { api, type Items, type Role, type Token, type User } from '../api.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatTime, PageTitle, StatusBadge, useLoad } from '../ui.tsx';

type SettingValue = string | number | boolean | null;

export function SettingsPage() {
  const { session } = useSession();
  if (!can(session, 'owner')) {
    return (
      <>
        <PageTitle>Settings</PageTitle>
        <p className="notice info">
          You are logged in as {session.name} ({session.role}). Settings, users and tokens are for the owner.
        </p>
      </>
    );
  }
  return (
    <>
      <PageTitle lead="Settings come from the environment and .env; change them there and restart.">Settings</PageTitle>
      <EffectiveSettings />
      <Users />
      <Tokens />
    </>
  );
}

function EffectiveSettings() {
  const settings = useLoad(() => api<Record<string, SettingValue> | { settings: Record<string, SettingValue> }>('GET', '/settings'), []);
  const raw = settings.data;
  const values: Record<string, SettingValue> = raw && 'settings' in raw && typeof raw.settings === 'object' && raw.settings !== null ? (raw.settings as Record<string, SettingValue>) : ((raw ?? {}) as Record<string, SettingValue>);
  return (
    <section className="card" aria-labelledby="settings-h">
      <h2 id="settings-h">Effective settings</h2>
      <ErrorBox error={settings.error} />
      <dl className="facts">
        {Object.entries(values).map(([k, v]) => (
          <div key={k} className="fact">
            <dt>
              <code>{k}</code>
            </dt>
            <dd className="break">{v === null ? '—' : String(v)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Users() {
  const users = useLoad(() => api<Items<User>>('GET', '/users'), []);
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const add = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      const answer = await api<{ link?: string }>('POST', '/users', { email: String(form.get('email') ?? ''), role: String(form.get('role') ?? 'viewer') as Role });
      setLink(answer.link ?? null);
      users.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card" aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <ErrorBox error={users.error ?? error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {(users.data?.items ?? []).map((u) => (
              <tr key={u.id}>
                <td className="break">{u.email}</td>
                <td>{u.role}</td>
                <td>
                  <StatusBadge status={u.disabled ? 'disabled' : u.hasPassword ? 'active' : 'invited'} />
                </td>
                <td>{formatTime(u.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="inline-form" onSubmit={(e) => void add(e)}>
        <label>
          Email
          <input type="email" name="email" required />
        </label>
        <label>
          Role
          <select name="role" defaultValue="editor">
            <option value="viewer">viewer</option>
            <option value="editor">editor</option>
            <option value="owner">owner</option>
          </select>
        </label>
        <button type="submit">Invite</button>
      </form>
      {link ? (
        <p className="notice ok" role="status">
          Send them this one-time link to choose a password: <code className="break">{link}</code>
        </p>
      ) : null}
    </section>
  );
}

function Tokens() {
  const tokens = useLoad(() => api<Items<Token>>('GET', '/tokens'), []);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      const answer = await api<{ secret?: string; token?: string }>('POST', '/tokens', { name: String(form.get('name') ?? ''), role: String(form.get('role') ?? 'viewer') as Role });
      setSecret(answer.secret ?? answer.token ?? null);
      tokens.reload();
    } catch (e) {
      setError(e);
    }
  };
  const revoke = async (t: Token) => {
    if (!window.confirm(`Revoke the token ${t.name}? Scripts using it stop working.`)) return;
    try {
      await api('DELETE', `/tokens/${t.id}`);
      tokens.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card" aria-labelledby="tokens-h">
      <h2 id="tokens-h">API tokens</h2>
      <ErrorBox error={tokens.error ?? error} />
      <ul className="plain">
        {(tokens.data?.items ?? []).map((t) => (
          <li key={t.id} className="row-item">
            <strong>{t.name}</strong> <span className="small">{t.role} · {t.prefix}… · last used {formatTime(t.lastUsedAt)}</span>{' '}
            {t.revokedAt ? (
              <StatusBadge status="revoked" />
            ) : (
              <button type="button" className="small-btn danger" aria-label={`Revoke ${t.name}`} onClick={() => void revoke(t)}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={(e) => void create(e)}>
        <label>
          Token name
          <input name="name" required maxLength={64} />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            <option value="viewer">viewer</option>
            <option value="editor">editor</option>
            <option value="owner">owner</option>
          </select>
        </label>
        <button type="submit">Create token</button>
      </form>
      {secret ? (
        <p className="notice ok" role="status">
          Copy it now, it is shown once: <code className="break">{secret}</code>
        </p>
      ) : null}
    </section>
  );
}

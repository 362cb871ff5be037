/** One subscriber: their lists and status, and (for editors) their whole history from the GDPR export: consent and every send. */
import { useState } from 'react';
import { api, type Subscriber } from '../api.ts';
import { can, useSession } from '../session.ts';
import { navigate } from '../router.ts';
import { ErrorBox, formatTime, Link, Loading, PageTitle, StatusBadge, useLoad } from '../ui.tsx';

export function SubscriberPage({ id }: { id: number }) {
  const { session } = useSession();
  const editor = can(session, 'editor');
  const subscriber = useLoad(() => api<Subscriber>('GET', `/subscribers/${id}`), [id]);
  const history = useLoad(() => (editor ? api<Record<string, unknown>>('GET', `/subscribers/${id}/export`) : Promise.resolve(null)), [id, editor]);
  const [error, setError] = useState<unknown>(null);
  const s = subscriber.data;
  const unsubscribe = async () => {
    if (!s || !window.confirm(`Unsubscribe ${s.email} from every list?`)) return;
    try {
      await api('POST', `/subscribers/${id}/unsubscribe`, {});
      subscriber.reload();
      history.reload();
    } catch (e) {
      setError(e);
    }
  };
  const download = () => {
    if (!s || !history.data) return;
    const url = URL.createObjectURL(new Blob([JSON.stringify(history.data, null, 2)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `subscriber-${s.id}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const erase = async () => {
    if (!s || !window.confirm(`Erase everything held about ${s.email}? Only a hash stays, so they are never mailed again. This cannot be undone.`)) return;
    try {
      await api('DELETE', `/subscribers/${id}`);
      navigate('/audience');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <p className="crumbs">
        <Link to="/audience">← Audience</Link>
      </p>
      <PageTitle>{s ? s.email : `Subscriber ${id}`}</PageTitle>
      <ErrorBox error={subscriber.error} />
      <ErrorBox error={error} />
      {s ? (
        <section className="card" aria-label="Subscriber">
          <dl className="facts">
            <dt>Name</dt>
            <dd>{s.name || '—'}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={s.status} />
            </dd>
            <dt>Since</dt>
            <dd>{formatTime(s.createdAt)}</dd>
            <dt>Lists</dt>
            <dd>{s.lists.length ? s.lists.map((l) => `${l.name} (${l.status})`).join(', ') : 'none'}</dd>
          </dl>
          {editor ? (
            <div className="actions">
              <button type="button" onClick={() => void unsubscribe()}>
                Unsubscribe from all
              </button>
              <button type="button" onClick={download} disabled={!history.data}>
                Export (JSON)
              </button>
              <button type="button" className="danger" onClick={() => void erase()}>
                Erase
              </button>
            </div>
          ) : null}
        </section>
      ) : (
        <Loading what="the subscriber" />
      )}
      {editor ? (
        <section className="card" aria-labelledby="history-h">
          <h2 id="history-h">History</h2>
          <ErrorBox error={history.error} />
          {history.data ? <HistoryView data={history.data} /> : <Loading what="the history" />}
        </section>
      ) : null}
    </>
  );
}

function HistoryView({ data }: { data: Record<string, unknown> }) {
  const sends = Array.isArray(data['sends']) ? (data['sends'] as Record<string, unknown>[]) : [];
  const memberships = Array.isArray(data['memberships']) ? (data['memberships'] as Record<string, unknown>[]) : [];
  const text = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return (
    <>
      <h3>Lists and consent</h3>
      {memberships.length === 0 ? <p className="muted">No membership.</p> : null}
      <ul className="plain">
        {memberships.map((m, i) => (
          <li key={i} className="row-item small">
            {Object.entries(m)
              .map(([k, v]) => `${k}: ${text(v)}`)
              .join(' · ')}
          </li>
        ))}
      </ul>
      <h3>Sends</h3>
      {sends.length === 0 ? <p className="muted">Nothing sent to this subscriber yet.</p> : null}
      <ul className="plain">
        {sends.map((m, i) => (
          <li key={i} className="row-item small">
            {Object.entries(m)
              .map(([k, v]) => `${k}: ${text(v)}`)
              .join(' · ')}
          </li>
        ))}
      </ul>
    </>
  );
}

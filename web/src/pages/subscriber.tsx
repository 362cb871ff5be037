/** One subscriber: their lists and status, and (for editors) their whole history from the GDPR export: consent and every send. */
import { useState, type ReactNode } from 'react';
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

type Fields = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

interface TimelineEvent {
  readonly at: string;
  readonly kind: 'joined' | 'confirmed' | 'left' | 'sent' | 'bounce' | 'complaint' | 'suppressed';
  readonly title: ReactNode;
  readonly detail?: ReactNode;
  readonly status?: string;
}

const SOURCE_WORDS: Readonly<Record<string, string>> = { import: 'imported from a file', signup: 'signed up on the form', api: 'added through the API', cli: 'added from the command line', manual: 'added by hand' };

/** The GDPR export (everything held about the person) as one timeline, newest first. */
export function timelineOf(data: Fields): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  const lists = Array.isArray(data['lists']) ? (data['lists'] as Fields[]) : [];
  for (const m of lists) {
    const list = str(m['listName']) ?? 'a list';
    const joined = str(m['consentAt']) ?? str(m['createdAt']);
    const source = str(m['consentSource']);
    const ip = str(m['consentIp']);
    if (joined)
      events.push({
        at: joined,
        kind: 'joined',
        title: <>Joined <strong>{list}</strong></>,
        detail: <>Consent: {source ? (SOURCE_WORDS[source] ?? source) : 'not recorded'}{ip ? ` from ${ip}` : ''}.</>,
      });
    const confirmed = str(m['confirmedAt']);
    if (confirmed && confirmed !== joined) events.push({ at: confirmed, kind: 'confirmed', title: <>Confirmed <strong>{list}</strong></>, detail: str(m['confirmedIp']) ? <>From {str(m['confirmedIp'])}.</> : undefined });
    const left = str(m['unsubscribedAt']);
    if (left) events.push({ at: left, kind: 'left', title: <>Left <strong>{list}</strong></> });
  }
  const sends = Array.isArray(data['sends']) ? (data['sends'] as Fields[]) : [];
  for (const send of sends) {
    const at = str(send['updatedAt']) ?? str(send['firstAttemptAt']);
    if (!at) continue;
    const status = str(send['status']) ?? 'pending';
    const reply = str(send['smtpResponse']) ?? str(send['error']);
    const attempts = num(send['attempts']) ?? 0;
    events.push({
      at,
      kind: 'sent',
      status,
      title: (
        <>
          Issue #{num(send['issueNumber']) ?? '?'} of {str(send['newsletter']) ?? 'a newsletter'}: <em>{str(send['issueSubject']) ?? ''}</em>
        </>
      ),
      detail: (
        <>
          Campaign <Link to={`/campaigns/${num(send['campaignId']) ?? 0}`}>#{num(send['campaignId']) ?? '?'}</Link> to {str(send['listName']) ?? 'a list'}
          {attempts > 1 ? `, ${attempts} attempts` : ''}.{reply ? <> Server reply: <code className="break">{reply}</code></> : null}
        </>
      ),
    });
  }
  const reports = Array.isArray(data['deliveryEvents']) ? (data['deliveryEvents'] as Fields[]) : [];
  for (const e of reports) {
    const at = str(e['createdAt']);
    if (!at) continue;
    const kind = str(e['kind']) ?? '';
    const complaint = kind === 'complaint';
    events.push({
      at,
      kind: complaint ? 'complaint' : 'bounce',
      status: complaint ? 'complained' : 'bounced',
      title: complaint ? <>Reported an email as spam</> : <>{kind === 'soft-bounce' ? 'Soft bounce' : 'Hard bounce'} {str(e['status']) ? <code>{str(e['status'])}</code> : null}</>,
      detail: (
        <>
          {str(e['detail']) ? <span className="break">{str(e['detail'])} </span> : null}
          Reported by {str(e['source']) ?? 'the relay'}; {str(e['action']) ?? 'recorded'}.
        </>
      ),
    });
  }
  const suppression = data['suppression'] as Fields | null;
  if (suppression && str(suppression['createdAt'])) {
    events.push({ at: str(suppression['createdAt']) ?? '', kind: 'suppressed', title: <>Never mailed again</>, detail: <>Suppressed: {str(suppression['reason']) ?? 'by hand'}{str(suppression['detail']) ? ` (${str(suppression['detail'])})` : ''}.</> });
  }
  return events.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

const MARKS: Readonly<Record<TimelineEvent['kind'], string>> = { joined: '+', confirmed: '✓', left: '−', sent: '✉', bounce: '↩', complaint: '!', suppressed: '⊘' };
const KIND_WORDS: Readonly<Record<TimelineEvent['kind'], string>> = { joined: 'List', confirmed: 'Consent', left: 'List', sent: 'Email', bounce: 'Bounce', complaint: 'Complaint', suppressed: 'Suppression' };

function HistoryView({ data }: { data: Fields }) {
  const events = timelineOf(data);
  if (events.length === 0) return <p className="muted">Nothing recorded yet.</p>;
  return (
    <ol className="timeline" aria-label="History, newest first">
      {events.map((e, i) => (
        <li key={`${e.at}-${i}`} className={`tl tl-${e.kind}`}>
          <span className="tl-mark" aria-hidden="true">
            {MARKS[e.kind]}
          </span>
          <div className="tl-body">
            <p className="tl-head">
              <span className="visually-hidden">{KIND_WORDS[e.kind]}: </span>
              {e.title} {e.status ? <StatusBadge status={e.status} /> : null}
            </p>
            {e.detail ? <p className="tl-detail small">{e.detail}</p> : null}
            <time className="tl-time small muted" dateTime={e.at}>
              {formatTime(e.at)}
            </time>
          </div>
        </li>
      ))}
    </ol>
  );
}

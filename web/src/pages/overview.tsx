/** Overview: newsletters with their next send, campaigns running now (live), recent campaigns, lists, things that need attention. */
import { useState, type FormEvent } from 'react';
import { api, type Campaign, type Feed, type Items, type MailingList, type Newsletter, type Schedule } from '../api.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatNumber, formatTime, Link, Loading, PageTitle, StatusBadge, useLoad } from '../ui.tsx';
import { LiveProgress } from './watch.tsx';

interface OverviewData {
  readonly newsletters: readonly Newsletter[];
  readonly schedules: readonly Schedule[];
  readonly campaigns: readonly Campaign[];
  readonly lists: readonly MailingList[];
  readonly feeds: readonly Feed[];
}

export function OverviewPage() {
  const { data, error, loading, reload } = useLoad<OverviewData>(async () => {
    const [newsletters, schedules, campaigns, lists, feeds] = await Promise.all([
      api<Items<Newsletter>>('GET', '/newsletters'),
      api<Items<Schedule>>('GET', '/schedules'),
      api<Items<Campaign>>('GET', '/campaigns?limit=10'),
      api<Items<MailingList>>('GET', '/lists'),
      api<Items<Feed>>('GET', '/feeds'),
    ]);
    return { newsletters: newsletters.items, schedules: schedules.items, campaigns: campaigns.items, lists: lists.items, feeds: feeds.items };
  }, []);
  return (
    <>
      <PageTitle lead="Your newsletters at a glance: what is sending, what is next, what needs you.">Overview</PageTitle>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="the overview" /> : null}
      {data ? <Overview data={data} onChange={reload} /> : null}
    </>
  );
}

function Overview({ data, onChange }: { data: OverviewData; onChange: () => void }) {
  const { session } = useSession();
  const running = data.campaigns.filter((c) => c.status === 'sending');
  const paused = data.campaigns.filter((c) => c.status === 'paused');
  const failingFeeds = data.feeds.filter((f) => typeof f.lastError === 'string' && f.lastError !== '');
  const issueName = (c: Campaign) => data.newsletters.find((n) => n.id === c.newsletterId)?.name ?? `newsletter ${c.newsletterId}`;
  return (
    <div className="grid">
      {paused.length + failingFeeds.length > 0 ? (
        <section className="card span-2 attention" aria-labelledby="attention">
          <h2 id="attention">Needs attention</h2>
          <ul>
            {paused.map((c) => (
              <li key={`c${c.id}`}>
                Campaign <Link to={`/campaigns/${c.id}`}>#{c.id}</Link> of {issueName(c)} is paused{c.pauseReason === 'smtp' ? ' because the relay refused it' : ''}{c.lastError ? `: ${c.lastError}` : ''}.
              </li>
            ))}
            {failingFeeds.map((f) => (
              <li key={`f${f.id}`}>
                Feed {f.title || f.url} fails: {f.lastError}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section className="card span-2" aria-labelledby="running">
        <h2 id="running">Sending now</h2>
        {running.length === 0 ? <p className="muted">Nothing is sending. <Link to="/send">Send an issue</Link>.</p> : null}
        {running.map((c) => (
          <div key={c.id} className="running">
            <p>
              <Link to={`/campaigns/${c.id}`}>Campaign #{c.id}</Link> · {issueName(c)}
            </p>
            <LiveProgress id={c.id} compact />
          </div>
        ))}
      </section>
      <section className="card" aria-labelledby="newsletters">
        <h2 id="newsletters">Newsletters</h2>
        {data.newsletters.length === 0 ? <p className="muted">No newsletter yet: <code>npx mailroom newsletters create</code>.</p> : null}
        <ul className="plain">
          {data.newsletters.map((n) => {
            const schedule = data.schedules.find((s) => s.newsletter === n.slug);
            return (
              <li key={n.id} className="row-item">
                <strong>{n.name}</strong> <span className="muted">({n.slug})</span>
                <br />
                <span className="small">
                  {formatNumber(n.articles.unsent)} unsent of {formatNumber(n.articles.total)} articles · next send:{' '}
                  {schedule?.nextRuns[0] ? `${formatTime(schedule.nextRuns[0])} (${schedule.timezone})` : 'not scheduled'}
                </span>
              </li>
            );
          })}
        </ul>
        {can(session, 'editor') ? <NewNewsletter lists={data.lists} onCreated={onChange} /> : null}
      </section>
      <section className="card" aria-labelledby="lists">
        <h2 id="lists">Lists</h2>
        <ul className="plain">
          {data.lists.map((l) => (
            <li key={l.id} className="row-item">
              <strong>{l.name}</strong> <span className="small">{formatNumber(l.subscribed)} subscribed · {formatNumber(l.pending)} pending · {formatNumber(l.unsubscribed)} left</span>
            </li>
          ))}
        </ul>
        <p>
          <Link to="/audience">Manage the audience</Link>
        </p>
      </section>
      <section className="card span-2" aria-labelledby="recent">
        <h2 id="recent">Recent campaigns</h2>
        {data.campaigns.length === 0 ? <p className="muted">No campaign yet.</p> : null}
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Newsletter</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.campaigns.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/campaigns/${c.id}`}>#{c.id}</Link>
                  </td>
                  <td>{issueName(c)}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{formatTime(c.scheduledAt ?? c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

function NewNewsletter({ lists, onCreated }: { lists: readonly MailingList[]; onCreated: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const field = (name: string) => String(form.get(name) ?? '').trim();
    setError(null);
    try {
      const created = await api<Newsletter>('POST', '/newsletters', { slug: field('slug'), name: field('name'), from: field('from'), list: field('list'), postalAddress: field('postalAddress'), subject: field('subject') || '{title}' });
      setDone(`Created ${created.name}.`);
      onCreated();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <details className="new-form">
      <summary>New newsletter</summary>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Name
          <input name="name" required maxLength={200} />
        </label>
        <label>
          Short name (slug, for links and commands)
          <input name="slug" required maxLength={40} pattern="[a-z0-9-]+" />
        </label>
        <label>
          From
          <input name="from" required placeholder="Ada at Example <news@example.com>" />
        </label>
        <label>
          List
          <select name="list">
            {lists.map((l) => (
              <option key={l.id} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Postal address (the law wants it in every email)
          <input name="postalAddress" required maxLength={500} />
        </label>
        <label>
          Subject pattern
          <input name="subject" placeholder="{title}" maxLength={300} />
        </label>
        <button type="submit" className="primary">
          Create newsletter
        </button>
      </form>
      <ErrorBox error={error} />
      {done ? (
        <p className="notice ok" role="status">
          {done}
        </p>
      ) : null}
    </details>
  );
}

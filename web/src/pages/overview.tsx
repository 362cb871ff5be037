/** Overview: newsletters with their next send, campaigns running now (live), recent campaigns, lists, things that need attention. */
import { useState, type FormEvent } from 'react';
import { api, type Campaign, type Items, type ListGrowth, type MailingList, type Newsletter, type Problem, type Problems, type Schedule } from '../api.ts';
import { relayFaultWords } from '../relay.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatNumber, formatTime, Link, Loading, PageTitle, StatusBadge, useLoad } from '../ui.tsx';
import { LiveProgress } from './watch.tsx';

interface OverviewData {
  readonly newsletters: readonly Newsletter[];
  readonly schedules: readonly Schedule[];
  readonly campaigns: readonly Campaign[];
  readonly lists: readonly MailingList[];
  readonly problems: Problems;
  readonly growth: ListGrowth;
}

export function OverviewPage() {
  const { data, error, loading, reload } = useLoad<OverviewData>(async () => {
    const [newsletters, schedules, campaigns, lists, problems, growth] = await Promise.all([
      api<Items<Newsletter>>('GET', '/newsletters'),
      api<Items<Schedule>>('GET', '/schedules'),
      api<Items<Campaign>>('GET', '/campaigns?limit=10'),
      api<Items<MailingList>>('GET', '/lists'),
      api<Problems>('GET', '/problems'),
      api<ListGrowth>('GET', '/growth?days=30'),
    ]);
    return { newsletters: newsletters.items, schedules: schedules.items, campaigns: campaigns.items, lists: lists.items, problems, growth };
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
  const issueName = (c: Campaign) => data.newsletters.find((n) => n.id === c.newsletterId)?.name ?? `newsletter ${c.newsletterId}`;
  const newsletterName = (id: number) => data.newsletters.find((n) => n.id === id)?.name ?? `newsletter ${id}`;
  return (
    <div className="grid">
      {data.problems.items.length > 0 ? (
        <section className="card span-2 attention" aria-labelledby="attention">
          <h2 id="attention">Needs attention</h2>
          <ul className="problems">
            {data.problems.items.map((p) => (
              <ProblemItem key={problemKey(p)} problem={p} newsletterName={newsletterName} />
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
      <section className="card span-2" aria-labelledby="growth-h">
        <h2 id="growth-h">List growth, last 30 days</h2>
        <div className="growth">
          {data.growth.lists.map((g) => (
            <GrowthChart key={g.list} growth={g} days={data.growth.days} />
          ))}
        </div>
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

function problemKey(p: Problem): string {
  return p.kind === 'relay' ? 'relay' : p.kind === 'campaign-paused' ? `c${p.campaignId}` : `f${p.feedId}`;
}

function ProblemItem({ problem: p, newsletterName }: { problem: Problem; newsletterName: (id: number) => string }) {
  if (p.kind === 'relay')
    return (
      <li className="problem problem-relay">
        <strong>{relayFaultWords(p.state)}</strong>
        <span className="break small"> {p.message}</span>
        {p.retryAt ? <span className="small muted"> Mailroom tries again at {formatTime(p.retryAt)}.</span> : null}
      </li>
    );
  if (p.kind === 'campaign-paused')
    return (
      <li className="problem">
        <strong>
          Campaign <Link to={`/campaigns/${p.campaignId}`}>#{p.campaignId}</Link> of {newsletterName(p.newsletterId)} is paused
        </strong>
        <span className="break small"> {p.message}</span>
      </li>
    );
  return (
    <li className="problem">
      <strong>
        The feed <Link to="/feeds">{p.title || p.url}</Link> of {p.newsletter} fails
      </strong>
      <span className="break small"> {p.message}</span>
      <span className="small muted"> Last worked: {p.lastSuccessAt ? formatTime(p.lastSuccessAt) : 'never'}.</span>
    </li>
  );
}

/** One list's joins (up) and unsubscribes (down) per day as bars, with the numbers as a table for screen readers and anyone who wants them. */
function GrowthChart({ growth, days }: { growth: ListGrowth['lists'][number]; days: readonly string[] }) {
  const peak = Math.max(1, ...growth.joined, ...growth.left);
  const width = 300;
  const half = 36;
  const step = width / Math.max(1, days.length);
  const bar = Math.max(1, step - 2);
  const dayLabel = (day: string) => new Date(`${day}T12:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const summary = `${growth.list}: ${formatNumber(growth.totalJoined)} joined and ${formatNumber(growth.totalLeft)} left in the last ${days.length} days`;
  return (
    <figure className="growth-chart">
      <figcaption>
        <strong>{growth.list}</strong>{' '}
        <span className="small">
          <span className="joined">+{formatNumber(growth.totalJoined)} joined</span> · <span className="left">−{formatNumber(growth.totalLeft)} left</span>
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${half * 2 + 2}`} preserveAspectRatio="none" role="img" aria-label={summary} focusable="false">
        <line x1="0" x2={width} y1={half + 1} y2={half + 1} className="axis" />
        {days.map((day, i) => {
          const up = ((growth.joined[i] ?? 0) / peak) * half;
          const down = ((growth.left[i] ?? 0) / peak) * half;
          return (
            <g key={day}>
              {up > 0 ? <rect x={i * step + 1} y={half + 1 - up} width={bar} height={up} className="bar-joined" /> : null}
              {down > 0 ? <rect x={i * step + 1} y={half + 1} width={bar} height={down} className="bar-left" /> : null}
            </g>
          );
        })}
      </svg>
      <details>
        <summary>Numbers per day for {growth.list}</summary>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{summary}</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="num">Joined</th>
                <th scope="col" className="num">Left</th>
              </tr>
            </thead>
            <tbody>
              {days.map((day, i) =>
                (growth.joined[i] ?? 0) + (growth.left[i] ?? 0) > 0 ? (
                  <tr key={day}>
                    <th scope="row">{dayLabel(day)}</th>
                    <td className="num">{formatNumber(growth.joined[i] ?? 0)}</td>
                    <td className="num">{formatNumber(growth.left[i] ?? 0)}</td>
                  </tr>
                ) : null,
              )}
            </tbody>
          </table>
        </div>
        <p className="small muted">Days with no change are left out.</p>
      </details>
    </figure>
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

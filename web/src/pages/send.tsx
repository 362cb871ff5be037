/** Send and schedule: now (after the confirmation naming the issue, the count and the list), at a time in a time zone, or on a recurring schedule. */
import { useState, type FormEvent } from 'react';
import { api, type Campaign, type Issue, type Items, type MailingList, type Newsletter, type Schedule } from '../api.ts';
import { navigate } from '../router.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatNumber, formatTime, PageTitle, plural, useLoad } from '../ui.tsx';

interface RecipientCount {
  readonly newsletter: string;
  readonly issue: number;
  readonly list: string;
  readonly recipients: number;
  readonly alreadyReceived: number;
}

interface Pending {
  readonly body: Record<string, unknown>;
  readonly count: RecipientCount;
  readonly when: string | null;
}

const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function SendPage({ query }: { query: URLSearchParams }) {
  const { session } = useSession();
  const newsletters = useLoad(() => api<Items<Newsletter>>('GET', '/newsletters'), []);
  const lists = useLoad(() => api<Items<MailingList>>('GET', '/lists'), []);
  const slug = query.get('newsletter') ?? newsletters.data?.items[0]?.slug ?? '';
  const newsletter = newsletters.data?.items.find((n) => n.slug === slug);
  const issues = useLoad(() => (slug ? api<Items<Issue>>('GET', `/newsletters/${encodeURIComponent(slug)}/issues`) : Promise.resolve({ items: [] as Issue[] })), [slug]);
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [mode, setMode] = useState<'now' | 'at'>('now');

  if (!can(session, 'editor')) {
    return (
      <>
        <PageTitle>Send</PageTitle>
        <p className="notice info">Your role is {session.role}: viewers watch campaigns but cannot send. Ask an owner for the editor role.</p>
      </>
    );
  }
  const ownList = lists.data?.items.find((l) => l.id === newsletter?.listId)?.name ?? '';

  const prepare = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const issue = Number(form.get('issue'));
    const list = String(form.get('list') ?? '');
    const resend = form.get('resend') === 'on';
    const at = mode === 'at' ? String(form.get('at') ?? '').replace('T', ' ') : '';
    const timeZone = String(form.get('timeZone') ?? '');
    setError(null);
    setBusy(true);
    try {
      const params = new URLSearchParams({ resend: String(resend) });
      if (list) params.set('list', list);
      const count = await api<RecipientCount>('GET', `/newsletters/${encodeURIComponent(slug)}/issues/${issue}/recipients?${params.toString()}`);
      setPending({ count, when: at ? `${at} (${timeZone})` : null, body: { newsletter: slug, issue, ...(list ? { list } : {}), resend, ...(at ? { at, timeZone } : {}) } });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ campaign: Campaign }>('POST', '/campaigns', { ...pending.body, confirmRecipients: pending.count.recipients });
      navigate(`/campaigns/${answer.campaign.id}`);
    } catch (e) {
      setError(e);
      setPending(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle lead="Send an issue now, at a time of your choosing, or on a schedule.">Send</PageTitle>
      <ErrorBox error={newsletters.error ?? lists.error} />
      <form className="card" onSubmit={(e) => void prepare(e)} aria-labelledby="send-h">
        <h2 id="send-h">Send an issue</h2>
        <div className="inline-form">
          <label>
            Newsletter
            <select value={slug} onChange={(e) => navigate(`/send?newsletter=${encodeURIComponent(e.target.value)}`)}>
              {(newsletters.data?.items ?? []).map((n) => (
                <option key={n.id} value={n.slug}>
                  {n.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Issue
            <select name="issue" defaultValue={query.get('issue') ?? undefined} key={`${slug}-${issues.data?.items.length ?? 0}`}>
              {(issues.data?.items ?? []).map((i) => (
                <option key={i.id} value={i.number}>
                  #{i.number} — {i.subject}
                </option>
              ))}
            </select>
          </label>
          <label>
            To list
            <select name="list" defaultValue="" key={ownList}>
              <option value="">{ownList ? `${ownList} (the newsletter's list)` : "the newsletter's list"}</option>
              {(lists.data?.items ?? [])
                .filter((l) => l.name !== ownList)
                .map((l) => (
                  <option key={l.id} value={l.name}>
                    {l.name}
                  </option>
                ))}
            </select>
          </label>
        </div>
        <fieldset className="when">
          <legend>When</legend>
          <label className="check">
            <input type="radio" name="mode" checked={mode === 'now'} onChange={() => setMode('now')} /> Now
          </label>
          <label className="check">
            <input type="radio" name="mode" checked={mode === 'at'} onChange={() => setMode('at')} /> At a date and time
          </label>
          {mode === 'at' ? (
            <div className="inline-form">
              <label>
                Date and time
                <input type="datetime-local" name="at" required />
              </label>
              <label>
                Time zone
                <input name="timeZone" defaultValue={BROWSER_ZONE} required />
              </label>
            </div>
          ) : null}
        </fieldset>
        <label className="check">
          <input type="checkbox" name="resend" /> Resend to those who already received this issue
        </label>
        <button type="submit" className="primary" disabled={busy || !issues.data?.items.length}>
          Review and send…
        </button>
        {issues.data && issues.data.items.length === 0 ? <p className="muted">Build an issue first.</p> : null}
      </form>
      <ErrorBox error={error} />
      {pending ? (
        <div className="confirm card" role="alertdialog" aria-labelledby="confirm-h" aria-describedby="confirm-d">
          <h2 id="confirm-h">
            {pending.when ? 'Schedule' : 'Send'} issue #{pending.count.issue} to {formatNumber(pending.count.recipients)} subscribers of {pending.count.list}?
          </h2>
          <p id="confirm-d">
            {pending.when ? `It goes out at ${pending.when}. ` : 'It starts going out at once. '}
            {pending.count.alreadyReceived > 0 ? `${plural(pending.count.alreadyReceived, 'subscriber')} already received it and will not get it again. ` : ''}
            {pending.count.recipients === 0 ? 'Nobody would get it.' : ''}
          </p>
          <div className="actions">
            <button type="button" className="primary" autoFocus onClick={() => void confirm()} disabled={busy || pending.count.recipients === 0}>
              {pending.when ? 'Schedule' : 'Send'} to {formatNumber(pending.count.recipients)}
            </button>
            <button type="button" onClick={() => setPending(null)}>
              Not now
            </button>
          </div>
        </div>
      ) : null}
      {slug ? <ScheduleForm slug={slug} /> : null}
    </>
  );
}

function ScheduleForm({ slug }: { slug: string }) {
  const schedules = useLoad(() => api<Items<Schedule>>('GET', '/schedules'), [slug]);
  const current = schedules.data?.items.find((s) => s.newsletter === slug);
  const [error, setError] = useState<unknown>(null);
  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      await api('PUT', `/newsletters/${encodeURIComponent(slug)}/schedule`, { cron: String(form.get('cron') ?? ''), timezone: String(form.get('timezone') ?? ''), emptyPolicy: 'skip' });
      schedules.reload();
    } catch (e) {
      setError(e);
    }
  };
  const remove = async () => {
    try {
      await api('DELETE', `/newsletters/${encodeURIComponent(slug)}/schedule`);
      schedules.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card" aria-labelledby="sched-h">
      <h2 id="sched-h">Recurring schedule</h2>
      {current ? (
        <>
          <p>
            <code>{current.cron}</code> in {current.timezone}. Next runs:
          </p>
          <ol className="small">
            {current.nextRuns.map((run) => (
              <li key={run}>{formatTime(run)}</li>
            ))}
          </ol>
          <button type="button" onClick={() => void remove()}>
            Remove schedule
          </button>
        </>
      ) : (
        <p className="muted">No schedule: issues go out when you send them.</p>
      )}
      <form className="inline-form" onSubmit={(e) => void save(e)} key={current?.cron ?? 'none'}>
        <label>
          Cron (minute hour day month weekday)
          <input name="cron" defaultValue={current?.cron ?? '0 8 * * 1'} required />
        </label>
        <label>
          Time zone
          <input name="timezone" defaultValue={current?.timezone ?? BROWSER_ZONE} required />
        </label>
        <button type="submit">Save schedule</button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}

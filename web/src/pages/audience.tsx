/** Audience: lists with their counts, subscribers searched and paged (keyset pages), and CSV imports with progress and a per-line report. */
import { useEffect, useState, type FormEvent } from 'react';
import { api, type ImportJob, type Items, type MailingList, type Subscriber } from '../api.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatNumber, formatTime, Link, Loading, PageTitle, plural, StatusBadge, useLoad } from '../ui.tsx';

const PAGE_SIZE = 25;

export function AudiencePage() {
  const { session } = useSession();
  const lists = useLoad(() => api<Items<MailingList>>('GET', '/lists'), []);
  return (
    <>
      <PageTitle lead="Who you write to: lists, people, imports.">Audience</PageTitle>
      <ErrorBox error={lists.error} />
      <section className="card" aria-labelledby="lists-h">
        <h2 id="lists-h">Lists</h2>
        {lists.data ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">List</th>
                  <th scope="col" className="num">Subscribed</th>
                  <th scope="col" className="num">Pending</th>
                  <th scope="col" className="num">Unsubscribed</th>
                </tr>
              </thead>
              <tbody>
                {lists.data.items.map((l) => (
                  <tr key={l.id}>
                    <td>
                      <strong>{l.name}</strong>
                      {l.description ? <div className="small muted">{l.description}</div> : null}
                    </td>
                    <td className="num">{formatNumber(l.subscribed)}</td>
                    <td className="num">{formatNumber(l.pending)}</td>
                    <td className="num">{formatNumber(l.unsubscribed)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Loading what="lists" />
        )}
        {can(session, 'editor') ? <NewList onCreated={lists.reload} /> : null}
      </section>
      {can(session, 'editor') && lists.data ? <CsvImport lists={lists.data.items} onDone={lists.reload} /> : null}
      <SubscriberSearch lists={lists.data?.items ?? []} />
      {lists.data ? <SignupFormCode lists={lists.data.items} /> : null}
      {can(session, 'editor') ? <Suppressions /> : null}
    </>
  );
}

function SubscriberSearch({ lists }: { lists: readonly MailingList[] }) {
  const [filters, setFilters] = useState({ q: '', by: 'email', list: '', status: '' });
  const [cursor, setCursor] = useState<{ at: string | null; stack: (string | null)[] }>({ at: null, stack: [] });
  const page = useLoad(() => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filters.q) params.set(filters.by === 'name' ? 'name' : 'email', filters.q);
    if (filters.list) params.set('list', filters.list);
    if (filters.status) params.set('status', filters.status);
    if (cursor.at !== null) params.set('cursor', cursor.at);
    return api<Items<Subscriber> & { nextCursor: string | null }>('GET', `/subscribers?${params.toString()}`);
  }, [filters, cursor]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilters({ q: String(form.get('q') ?? '').trim(), by: String(form.get('by') ?? 'email'), list: String(form.get('list') ?? ''), status: String(form.get('status') ?? '') });
    setCursor({ at: null, stack: [] });
  };
  return (
    <section className="card" aria-labelledby="subs-h">
      <h2 id="subs-h">Subscribers</h2>
      <form className="inline-form" role="search" onSubmit={submit}>
        <label>
          Search
          <input type="search" name="q" placeholder="starts with…" defaultValue={filters.q} />
        </label>
        <label>
          In
          <select name="by" defaultValue={filters.by}>
            <option value="email">email addresses</option>
            <option value="name">names</option>
          </select>
        </label>
        <label>
          List
          <select name="list" defaultValue={filters.list}>
            <option value="">Any list</option>
            {lists.map((l) => (
              <option key={l.id} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status" defaultValue={filters.status}>
            <option value="">Any status</option>
            <option value="active">active</option>
            <option value="unsubscribed">unsubscribed</option>
            <option value="bounced">bounced</option>
            <option value="complained">complained</option>
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={page.error} />
      {page.data ? (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Lists</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((s) => (
                  <tr key={s.id}>
                    <td className="break">
                      <Link to={`/audience/subscribers/${s.id}`}>{s.email}</Link>
                    </td>
                    <td>{s.name}</td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td className="small">{s.lists.map((l) => `${l.name} (${l.status})`).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.data.items.length === 0 ? <p className="muted">Nobody matches.</p> : null}
          <div className="pager">
            <button type="button" disabled={cursor.stack.length === 0} onClick={() => setCursor((c) => ({ at: c.stack[c.stack.length - 1] ?? null, stack: c.stack.slice(0, -1) }))}>
              ← Previous
            </button>
            <button type="button" disabled={page.data.nextCursor === null} onClick={() => setCursor((c) => ({ at: page.data?.nextCursor ?? null, stack: [...c.stack, c.at] }))}>
              Next →
            </button>
          </div>
        </>
      ) : page.loading ? (
        <Loading what="subscribers" />
      ) : null}
    </section>
  );
}

function CsvImport({ lists, onDone }: { lists: readonly MailingList[]; onDone: () => void }) {
  const [job, setJob] = useState<ImportJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!job || job.state !== 'running') return;
    const timer = setTimeout(() => {
      api<ImportJob>('GET', `/imports/${encodeURIComponent(job.id)}`).then((next) => {
        setJob(next);
        if (next.state !== 'running') onDone();
      }, setError);
    }, 300);
    return () => clearTimeout(timer);
  }, [job, onDone]);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get('file');
    const list = String(form.get('list') ?? '');
    setError(null);
    setJob(null);
    if (!(file instanceof File) || file.size === 0) {
      setError(new Error('Choose a CSV file first (a header row with email, and optionally name, first_name, last_name).'));
      return;
    }
    try {
      const text = await file.text();
      const params = new URLSearchParams({ filename: file.name, createList: String(form.get('create') === 'on') });
      setJob(await api<ImportJob>('POST', `/lists/${encodeURIComponent(list)}/imports?${params.toString()}`, text, { contentType: 'text/csv' }));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card" aria-labelledby="import-h">
      <h2 id="import-h">Import a CSV file</h2>
      <form className="inline-form" onSubmit={(e) => void submit(e)}>
        <label>
          CSV file
          <input type="file" name="file" accept=".csv,text/csv" />
        </label>
        <label>
          Into list
          <select name="list">
            {lists.map((l) => (
              <option key={l.id} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={job?.state === 'running'}>
          Import
        </button>
      </form>
      <ErrorBox error={error} />
      {job ? <ImportReport job={job} /> : null}
    </section>
  );
}

function ImportReport({ job }: { job: ImportJob }) {
  const r = job.report;
  return (
    <div className="import-report" aria-live="polite">
      {job.state === 'running' ? (
        <>
          <div className="progress indeterminate" role="progressbar" aria-label="Import" aria-valuetext={`${formatNumber(job.linesRead)} lines read`}>
            <div className="progress-fill" />
          </div>
          <p>{plural(job.linesRead, 'line')} read from {job.source}…</p>
        </>
      ) : null}
      {job.state === 'failed' ? <p className="notice error">The import failed: {job.error}</p> : null}
      {r ? (
        <p className="notice ok" role="status" data-testid="import-result">
          {job.source} into {job.list}: {formatNumber(r.addedToList)} added to the list ({formatNumber(r.newPeople)} new, {formatNumber(r.alreadyKnown)} already known; {formatNumber(r.profilesChanged)} profiles changed), {formatNumber(r.alreadyOnList)} already on it, {formatNumber(r.unchanged)} unchanged, {formatNumber(r.keptOut)} kept out, {plural(r.rejected, 'line')} rejected
          {r.applied ? '.' : ' — nothing was applied.'}
        </p>
      ) : null}
      {job.lines.length > 0 ? (
        <details open>
          <summary>Rejected lines ({formatNumber(job.lines.length)})</summary>
          <ul className="report-lines">
            {job.lines.map((line) => (
              <li key={line}>
                <code>{line}</code>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {job.state !== 'running' ? <p className="small muted">Finished {formatTime(new Date().toISOString())}.</p> : null}
    </div>
  );
}

function SignupFormCode({ lists }: { lists: readonly MailingList[] }) {
  const [list, setList] = useState(lists[0]?.name ?? '');
  const form = useLoad(() => (list ? api<{ html: string; action: string; open: boolean }>('GET', `/lists/${encodeURIComponent(list)}/form`) : Promise.resolve(null)), [list]);
  const [copied, setCopied] = useState(false);
  return (
    <section className="card" aria-labelledby="form-h">
      <h2 id="form-h">Sign-up form</h2>
      <label className="narrow">
        For list
        <select value={list} onChange={(e) => setList(e.target.value)}>
          {lists.map((l) => (
            <option key={l.id} value={l.name}>
              {l.name}
            </option>
          ))}
        </select>
      </label>
      <ErrorBox error={form.error} />
      {form.data ? (
        <>
          <p className="small">
            Paste this into any page: plain HTML, no script, double opt-in. Hosted page: <a href={form.data.action}>{form.data.action}</a>
            {form.data.open ? '' : ' — sign-up is closed for this list; open it with mailroom lists signup ' + list + ' on.'}
          </p>
          <label>
            Embed code
            <textarea readOnly rows={8} value={form.data.html} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(form.data?.html ?? '').then(() => setCopied(true));
            }}
          >
            {copied ? 'Copied' : 'Copy code'}
          </button>
        </>
      ) : null}
    </section>
  );
}

interface SuppressionItem {
  /** The address, or @domain for a whole domain; null once only an erased address's hash is kept. */
  readonly target: string | null;
  readonly email: string | null;
  readonly emailHash: string;
  readonly reason: string;
  readonly detail: string;
  readonly createdAt: string;
}

function Suppressions() {
  const [before, setBefore] = useState<string | null>(null);
  const page = useLoad(() => api<{ items: readonly SuppressionItem[]; nextBefore: string | null }>('GET', `/suppressions?limit=20${before ? `&before=${encodeURIComponent(before)}` : ''}`), [before]);
  const [error, setError] = useState<unknown>(null);
  const add = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const email = String(new FormData(form).get('email') ?? '').trim();
    setError(null);
    try {
      await api('POST', '/suppressions', { email, detail: 'added in the web app' });
      form.reset();
      setBefore(null);
      page.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card" aria-labelledby="supp-h">
      <h2 id="supp-h">Suppression list</h2>
      <p className="small muted">Addresses no import, sign-up or campaign may mail: hard bounces, complaints, erasures and your own additions.</p>
      <form className="inline-form" onSubmit={(e) => void add(e)}>
        <label>
          Never mail
          <input type="email" name="email" required />
        </label>
        <button type="submit">Suppress</button>
      </form>
      <ErrorBox error={error ?? page.error} />
      {page.data && page.data.items.length === 0 ? <p className="muted">Nobody is suppressed.</p> : null}
      <ul className="plain">
        {(page.data?.items ?? []).map((s) => (
          <li key={s.emailHash} className="row-item small">
            <span className="break">{s.target ?? `(erased, hash ${s.emailHash.slice(0, 12)}…)`}</span> · {s.reason}
            {s.detail ? ` · ${s.detail}` : ''} · {formatTime(s.createdAt)}
          </li>
        ))}
      </ul>
      <div className="pager">
        <button type="button" disabled={before === null} onClick={() => setBefore(null)}>
          First page
        </button>
        <button type="button" disabled={!page.data?.nextBefore} onClick={() => setBefore(page.data?.nextBefore ?? null)}>
          Next →
        </button>
      </div>
    </section>
  );
}

function NewList({ onCreated }: { onCreated: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setError(null);
    try {
      await api('POST', '/lists', { name: String(data.get('name') ?? '').trim(), description: String(data.get('description') ?? '').trim() });
      form.reset();
      onCreated();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <details className="new-form">
      <summary>New list</summary>
      <form className="inline-form" onSubmit={(e) => void submit(e)}>
        <label>
          List name
          <input name="name" required maxLength={64} />
        </label>
        <label>
          Description
          <input name="description" maxLength={500} />
        </label>
        <button type="submit">Create list</button>
      </form>
      <ErrorBox error={error} />
    </details>
  );
}

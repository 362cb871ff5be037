/** Issues: build the next issue (pick and order articles, subject and preheader), then preview it as a subscriber gets it and send a test. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, type Article, type Issue, type IssueWarnings, type Items, type Newsletter, type Preview } from '../api.ts';
import { navigate } from '../router.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatNumber, formatTime, Link, PageTitle, useLoad } from '../ui.tsx';

export function IssuesPage({ query }: { query: URLSearchParams }) {
  const newsletters = useLoad(() => api<Items<Newsletter>>('GET', '/newsletters'), []);
  const slug = query.get('newsletter') ?? newsletters.data?.items[0]?.slug ?? '';
  const number = Number(query.get('issue') ?? '0');
  const issues = useLoad(() => (slug ? api<Items<Issue>>('GET', `/newsletters/${encodeURIComponent(slug)}/issues`) : Promise.resolve({ items: [] })), [slug]);
  return (
    <>
      <PageTitle lead="Pick the articles, write the subject, and see the exact email before anyone gets it.">Issues &amp; preview</PageTitle>
      <ErrorBox error={newsletters.error} />
      <div className="inline-form">
        <label>
          Newsletter
          <select value={slug} onChange={(e) => navigate(`/issues?newsletter=${encodeURIComponent(e.target.value)}`)}>
            {(newsletters.data?.items ?? []).map((n) => (
              <option key={n.id} value={n.slug}>
                {n.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Issue
          <select value={number || ''} onChange={(e) => navigate(`/issues?newsletter=${encodeURIComponent(slug)}${e.target.value ? `&issue=${e.target.value}` : ''}`)}>
            <option value="">Build a new issue</option>
            {(issues.data?.items ?? []).map((i) => (
              <option key={i.id} value={i.number}>
                #{i.number} — {i.subject}
              </option>
            ))}
          </select>
        </label>
      </div>
      {slug && number > 0 ? <IssuePreview slug={slug} number={number} /> : null}
      {slug && number === 0 ? <IssueBuilder slug={slug} /> : null}
    </>
  );
}

function IssueBuilder({ slug }: { slug: string }) {
  const { session } = useSession();
  const articles = useLoad(() => api<Items<Article>>('GET', `/articles?newsletter=${encodeURIComponent(slug)}&limit=100`), [slug]);
  const [chosen, setChosen] = useState<number[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!can(session, 'editor')) return <p className="notice info">Viewers preview issues; an editor builds them.</p>;
  const byId = new Map((articles.data?.items ?? []).map((a) => [a.id, a]));
  const toggle = (id: number) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));
  const move = (index: number, by: number) =>
    setChosen((c) => {
      const next = [...c];
      const [item] = next.splice(index, 1);
      if (item !== undefined) next.splice(Math.max(0, Math.min(next.length, index + by)), 0, item);
      return next;
    });
  const build = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const subject = String(form.get('subject') ?? '').trim();
    const preheader = String(form.get('preheader') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      const issue = await api<Issue>('POST', `/newsletters/${encodeURIComponent(slug)}/issues`, {
        ...(chosen.length ? { articles: chosen } : {}),
        ...(subject ? { subject } : {}),
        ...(preheader ? { preheader } : {}),
      });
      navigate(`/issues?newsletter=${encodeURIComponent(slug)}&issue=${issue.number}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={(e) => void build(e)} aria-labelledby="build-h">
      <h2 id="build-h">Build the next issue</h2>
      <fieldset>
        <legend>Articles (none chosen: the newest unsent)</legend>
        <ErrorBox error={articles.error} />
        <ul className="plain checklist">
          {(articles.data?.items ?? []).map((a) => (
            <li key={a.id}>
              <label className="check">
                <input type="checkbox" checked={chosen.includes(a.id)} onChange={() => toggle(a.id)} />
                <span>
                  {a.title} <span className="small muted">{formatTime(a.publishedAt)}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
        {articles.data && articles.data.items.length === 0 ? (
          <p className="muted">
            This newsletter has no article yet: <Link to="/write">import or write one</Link>.
          </p>
        ) : null}
      </fieldset>
      {chosen.length > 1 ? (
        <ol className="order">
          {chosen.map((id, index) => (
            <li key={id}>
              <span>{byId.get(id)?.title ?? `#${id}`}</span>
              <span className="order-buttons">
                <button type="button" className="small-btn" aria-label={`Move ${byId.get(id)?.title ?? id} up`} disabled={index === 0} onClick={() => move(index, -1)}>
                  ↑
                </button>
                <button type="button" className="small-btn" aria-label={`Move ${byId.get(id)?.title ?? id} down`} disabled={index === chosen.length - 1} onClick={() => move(index, 1)}>
                  ↓
                </button>
              </span>
            </li>
          ))}
        </ol>
      ) : null}
      <label>
        Subject (empty: the newsletter's subject pattern)
        <input name="subject" maxLength={300} placeholder="{name} #{number}: {title}" />
      </label>
      <label>
        Preheader
        <input name="preheader" maxLength={300} />
      </label>
      <p className="small muted">
        Placeholders: <code>{'{{firstName}}'}</code> <code>{'{{lastName}}'}</code> <code>{'{{name}}'}</code> <code>{'{{email}}'}</code> fill in per subscriber; <code>{'{title}'}</code> <code>{'{name}'}</code> <code>{'{number}'}</code> put in the first article's title, the newsletter's name and the issue number as text.
      </p>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Building…' : 'Build issue'}
      </button>
    </form>
  );
}

function IssuePreview({ slug, number }: { slug: string; number: number }) {
  const { session } = useSession();
  const [as, setAs] = useState('');
  const [width, setWidth] = useState<375 | 600>(600);
  const [dark, setDark] = useState(false);
  const issue = useLoad(() => api<Issue & { html: string; text: string }>('GET', `/newsletters/${encodeURIComponent(slug)}/issues/${number}`), [slug, number]);
  const preview = useLoad(() => api<Preview>('POST', `/newsletters/${encodeURIComponent(slug)}/issues/${number}/preview`, as ? { as } : {}), [slug, number, as]);
  const src = `/api/v1/newsletters/${encodeURIComponent(slug)}/issues/${number}/preview.html${as ? `?as=${encodeURIComponent(as)}` : ''}`;
  // Size, alt text and links on this server, checked by the server on this very email (the local inbox's check).
  const warnings = useLoad(() => api<IssueWarnings>('GET', `/newsletters/${encodeURIComponent(slug)}/issues/${number}/warnings${as ? `?as=${encodeURIComponent(as)}` : ''}`), [slug, number, as]);
  return (
    <>
      <section className="card" aria-labelledby="preview-h">
        <h2 id="preview-h">Preview of issue #{number}</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            setAs(String(new FormData(e.currentTarget).get('as') ?? '').trim());
          }}
        >
          <label>
            As subscriber
            <input type="email" name="as" placeholder="a sample reader" defaultValue={as} />
          </label>
          <button type="submit">Show</button>
        </form>
        <div className="toggles" role="group" aria-label="Preview size and theme">
          <button type="button" aria-pressed={width === 375} onClick={() => setWidth(375)}>
            Phone 375 px
          </button>
          <button type="button" aria-pressed={width === 600} onClick={() => setWidth(600)}>
            Desktop 600 px
          </button>
          <button type="button" aria-pressed={dark} onClick={() => setDark((d) => !d)}>
            Dark mode
          </button>
        </div>
        <ErrorBox error={preview.error} />
        {preview.data ? (
          <div className="inbox-line" aria-label="As an inbox shows it">
            <strong data-testid="preview-subject">{preview.data.subject}</strong>
            <span className="muted"> — {issue.data?.preheader}</span>
            <div className="small muted">To {preview.data.email}</div>
          </div>
        ) : null}
        <Warnings loaded={warnings.data} error={warnings.error} />
        {/* The frame shows only an email: it loads once the preview for this reader worked; an error shows above instead (framed, the API's error answer would stay blank). */}
        {preview.error || preview.loading ? null : (
          <div className={`frame-wrap${dark ? ' dark' : ''}`}>
            <iframe key={`${src}-${dark}`} title={`Email preview, ${width} px${dark ? ', dark mode' : ''}`} src={src} className={dark ? 'dark' : undefined} style={{ width: `${width}px` }} sandbox="allow-popups allow-popups-to-escape-sandbox" />
          </div>
        )}
        <details>
          <summary>Text part</summary>
          <pre className="text-part" data-testid="text-part">{preview.data?.text ?? ''}</pre>
        </details>
      </section>
      {can(session, 'editor') ? <TestSend slug={slug} number={number} /> : null}
      {can(session, 'editor') ? (
        <p>
          <Link to={`/send?newsletter=${encodeURIComponent(slug)}&issue=${number}`} className="button primary">
            Send or schedule issue #{number} →
          </Link>
        </p>
      ) : null}
    </>
  );
}

function Warnings({ loaded, error }: { loaded: IssueWarnings | null; error: unknown }) {
  if (error) return null;
  if (!loaded) return <p className="muted small" role="status">Checking the email's size, images and links…</p>;
  const kb = (bytes: number) => `${formatNumber(Math.round(bytes / 1024))} KB`;
  const items: { key: string; tone: 'error' | 'ok'; body: ReactNode }[] = [];
  if (loaded.html.verdict !== 'ok')
    items.push({ key: 'size', tone: 'error', body: <>The HTML is {kb(loaded.html.bytes)}: Gmail clips messages over {kb(loaded.html.limitBytes)}{loaded.html.verdict === 'clipped' ? ', hiding the footer and its unsubscribe link' : ' and this one is close'}.</> });
  if (loaded.imagesWithoutAlt.length > 0)
    items.push({
      key: 'alt',
      tone: 'error',
      body: (
        <>
          {loaded.imagesWithoutAlt.length === 1 ? '1 image has' : `${formatNumber(loaded.imagesWithoutAlt.length)} images have`} no alt text (a screen reader reads the file name):
          <ul className="break">{loaded.imagesWithoutAlt.map((src) => <li key={src}>{src}</li>)}</ul>
        </>
      ),
    });
  if (loaded.failingUrls.length > 0)
    items.push({
      key: 'links',
      tone: 'error',
      body: (
        <>
          {loaded.failingUrls.length === 1 ? '1 link fails' : `${formatNumber(loaded.failingUrls.length)} links fail`} on this server:
          <ul className="break">
            {loaded.failingUrls.map((u) => (
              <li key={u.url}>
                {u.kind === 'image' ? 'image ' : ''}
                {u.url} answers <strong>{u.status}</strong>
              </li>
            ))}
          </ul>
        </>
      ),
    });
  if (items.length === 0)
    items.push({ key: 'fine', tone: 'ok', body: <>No warning: {kb(loaded.html.bytes)} of HTML (Gmail clips at {kb(loaded.html.limitBytes)}), every image has alt text, and all {formatNumber(loaded.checkedUrls)} links and images on this server answer.</> });
  return (
    <section aria-labelledby="warnings-h" data-testid="warnings">
      <h3 id="warnings-h">Before you send</h3>
      <ul className="warnings">
        {items.map((item) => (
          <li key={item.key} className={`notice ${item.tone}`}>
            {item.body}
          </li>
        ))}
      </ul>
      {loaded.otherHosts.length > 0 || loaded.liveOnceSent.length > 0 ? (
        <p className="small muted">
          {loaded.otherHosts.length > 0 ? `${formatNumber(loaded.otherHosts.length)} links to other sites are not requested from here. ` : ''}
          {loaded.liveOnceSent.length > 0 ? `${formatNumber(loaded.liveOnceSent.length)} pages (the web version, the articles) go public when the issue is sent.` : ''}
        </p>
      ) : null}
    </section>
  );
}

function TestSend({ slug, number }: { slug: string; number: number }) {
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get('email') ?? '').trim();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const answer = await api<{ sentTo: string }>('POST', `/newsletters/${encodeURIComponent(slug)}/issues/${number}/test`, { email });
      setResult(`Test of issue #${number} sent to ${answer.sentTo}.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="test-h">
      <h2 id="test-h">Send a test</h2>
      <form className="inline-form" onSubmit={(e) => void submit(e)}>
        <label>
          To address
          <input type="email" name="email" required />
        </label>
        <button type="submit" disabled={busy}>
          Send test
        </button>
      </form>
      <ErrorBox error={error} />
      {result ? (
        <p className="notice ok" role="status">
          {result}
        </p>
      ) : null}
    </section>
  );
}

/** Feeds: the RSS and Atom feeds that bring articles to each newsletter; add, poll now, remove. */
import { useState, type FormEvent } from 'react';
import { api, type Feed, type Items, type Newsletter } from '../api.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatTime, Link, PageTitle, plural, useLoad } from '../ui.tsx';

interface PollResult {
  readonly failed?: boolean;
  readonly notModified?: boolean;
  readonly added?: number;
  readonly updated?: number;
  readonly unchanged?: number;
  readonly errors?: readonly string[];
}

export function FeedsPage() {
  const { session } = useSession();
  const editor = can(session, 'editor');
  const feeds = useLoad(() => api<Items<Feed>>('GET', '/feeds'), []);
  const newsletters = useLoad(() => api<Items<Newsletter>>('GET', '/newsletters'), []);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const nameOf = (id: number) => newsletters.data?.items.find((n) => n.id === id)?.name ?? String(id);
  const act = async <T,>(work: () => Promise<T>, done: string | ((answer: T) => string)) => {
    setError(null);
    setMessage(null);
    try {
      const answer = await work();
      setMessage(typeof done === 'string' ? done : done(answer));
      feeds.reload();
    } catch (e) {
      setError(e);
    }
  };
  const add = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    void act(() => api('POST', '/feeds', { newsletter: String(form.get('newsletter') ?? ''), url: String(form.get('url') ?? '') }), 'Feed added.');
  };
  return (
    <>
      <PageTitle lead="Feeds bring new articles to a newsletter on their own.">Feeds</PageTitle>
      <ErrorBox error={feeds.error ?? error} />
      {message ? (
        <p className="notice ok" role="status">
          {message}
        </p>
      ) : null}
      <section className="card" aria-labelledby="feeds-h">
        <h2 id="feeds-h">Feeds</h2>
        {feeds.data && feeds.data.items.length === 0 ? <p className="muted">No feed yet.</p> : null}
        <ul className="plain">
          {(feeds.data?.items ?? []).map((f) => (
            <li key={f.id} className="row-item">
              <strong>{f.title || f.url}</strong> <span className="small muted">for {nameOf(f.newsletterId)}</span>
              <div className="small break">{f.url}</div>
              <div className="small">
                Last poll: {formatTime(f.lastPolledAt ?? null)}
                {f.lastError ? <span className="error-text"> · fails: {f.lastError}</span> : null}
              </div>
              <div className="small">
                {plural(f.items ?? 0, 'article')} from this feed ·{' '}
                <Link to={`/issues?newsletter=${encodeURIComponent(f.newsletterSlug ?? '')}`}>
                  See the articles of {nameOf(f.newsletterId)}
                </Link>
              </div>
              {editor ? (
                <div className="actions">
                  <button type="button" aria-label={`Poll now: ${f.title || f.url}`} onClick={() => void act(
                        () => api<{ result: PollResult }>('POST', `/feeds/${f.id}/poll`),
                        ({ result }) =>
                          result.failed
                            ? `Polled ${f.title || f.url}: it failed (${result.errors?.join('; ') ?? ''}).`
                            : `Polled ${f.title || f.url}: ${result.notModified ? 'not modified' : `${result.added ?? 0} new, ${result.updated ?? 0} updated, ${result.unchanged ?? 0} unchanged`}.`,
                      )}>
                    Poll now
                  </button>
                  <button type="button" className="danger" aria-label={`Remove ${f.title || f.url}`} onClick={() => window.confirm(`Remove the feed ${f.url}? Its articles stay.`) && void act(() => api('DELETE', `/feeds/${f.id}`), 'Feed removed.')}>
                    Remove
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
      {editor ? (
        <form className="card" onSubmit={add} aria-labelledby="add-feed-h">
          <h2 id="add-feed-h">Add a feed</h2>
          <div className="inline-form">
            <label>
              Newsletter
              <select name="newsletter">
                {(newsletters.data?.items ?? []).map((n) => (
                  <option key={n.id} value={n.slug}>
                    {n.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Feed or site address
              <input type="url" name="url" required />
            </label>
            <button type="submit">Add feed</button>
          </div>
        </form>
      ) : null}
    </>
  );
}

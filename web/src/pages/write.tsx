/** Write: import an article from a URL or a file, or write one in Markdown with a side-by-side preview. */
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo, useState, type FormEvent } from 'react';
import { api, type Article, type Items, type Newsletter, type SavedArticles } from '../api.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatTime, PageTitle, useLoad } from '../ui.tsx';

const STARTER = `---
title: A new article
summary: One sentence that makes people open it.
tags: [news]
---

Write in **Markdown**. Links, lists and images work as in any email.
`;

function uploadType(name: string): string {
  if (/\.(md|markdown)$/i.test(name)) return 'text/markdown';
  if (/\.html?$/i.test(name)) return 'text/html';
  return 'text/plain';
}

function SavedReport({ result }: { result: SavedArticles }) {
  return (
    <div role="status" className="notice ok" data-testid="saved-report">
      {result.saved.map((s) => (
        <p key={s.article.id}>
          {s.outcome === 'added' ? 'Added' : s.outcome === 'updated' ? 'Updated' : 'Unchanged'}: <strong>{s.article.title}</strong>
          {s.warnings.length ? <span className="small"> ({s.warnings.join('; ')})</span> : null}
        </p>
      ))}
      {result.rejected.map((r) => (
        <p key={r.message} className="error-text">
          Not imported: {r.message}
        </p>
      ))}
    </div>
  );
}

export function WritePage() {
  const { session } = useSession();
  const editor = can(session, 'editor');
  const newsletters = useLoad(() => api<Items<Newsletter>>('GET', '/newsletters'), []);
  const articles = useLoad(() => api<Items<Article>>('GET', '/articles?limit=20'), []);
  const [newsletter, setNewsletter] = useState('');
  const [result, setResult] = useState<SavedArticles | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [markdown, setMarkdown] = useState(STARTER);
  const nl = newsletter ? `?newsletter=${encodeURIComponent(newsletter)}` : '';

  const run = async (work: () => Promise<SavedArticles>) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await work());
      articles.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const importUrl = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const url = String(new FormData(event.currentTarget).get('url') ?? '').trim();
    void run(() => api<SavedArticles>('POST', '/articles/import', { url, ...(newsletter ? { newsletter } : {}) }));
  };
  const importFile = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get('file');
    if (!(file instanceof File) || file.size === 0) {
      setError(new Error('Choose a file first: Markdown (.md), a saved page (.html) or page text (.txt).'));
      return;
    }
    void run(async () => {
      const params = new URLSearchParams({ filename: file.name });
      if (newsletter) params.set('newsletter', newsletter);
      return api<SavedArticles>('POST', `/articles/upload?${params.toString()}`, await file.text(), { contentType: uploadType(file.name) });
    });
  };
  const edit = async (id: number) => {
    setError(null);
    try {
      const file = await api<{ markdown: string }>('GET', `/articles/${id}/markdown`);
      setMarkdown(file.markdown);
      document.getElementById('md-editor')?.focus();
    } catch (e) {
      setError(e);
    }
  };
  const saveMarkdown = () => void run(() => api<SavedArticles>('POST', `/articles${nl}`, { markdown }));
  const preview = useMemo(() => DOMPurify.sanitize(marked.parse(markdown.replace(/^---\n[\s\S]*?\n---\n/, ''), { async: false })), [markdown]);

  return (
    <>
      <PageTitle lead="Bring in articles from the web or a file, or write one here.">Write</PageTitle>
      {editor ? (
        <>
          <section className="card" aria-labelledby="for-h">
            <h2 id="for-h" className="visually-hidden">
              Newsletter
            </h2>
            <label className="narrow">
              Articles go to newsletter
              <select value={newsletter} onChange={(e) => setNewsletter(e.target.value)}>
                <option value="">(by their tags)</option>
                {(newsletters.data?.items ?? []).map((n) => (
                  <option key={n.id} value={n.slug}>
                    {n.name}
                  </option>
                ))}
              </select>
            </label>
          </section>
          <div className="grid">
            <section className="card" aria-labelledby="url-h">
              <h2 id="url-h">From a web page</h2>
              <form onSubmit={importUrl}>
                <label>
                  Page address
                  <input type="url" name="url" required placeholder="https://example.com/post" />
                </label>
                <button type="submit" className="primary" disabled={busy}>
                  Import page
                </button>
              </form>
            </section>
            <section className="card" aria-labelledby="file-h">
              <h2 id="file-h">From a file</h2>
              <form onSubmit={importFile}>
                <label>
                  Markdown, HTML or text file
                  <input type="file" name="file" accept=".md,.markdown,.html,.htm,.txt" />
                </label>
                <button type="submit" className="primary" disabled={busy}>
                  Upload
                </button>
              </form>
            </section>
          </div>
          <ErrorBox error={error} />
          {result ? <SavedReport result={result} /> : null}
          <section className="card" aria-labelledby="md-h">
            <h2 id="md-h">Write in Markdown</h2>
            <p className="small muted">Front matter keys: title, slug, summary, author, published, canonical_url, lead_image (url, alt), tags. Saving with the slug of an existing article updates it.</p>
            <div className="editor">
              <label>
                Markdown with front matter
                <textarea id="md-editor" value={markdown} onChange={(e) => setMarkdown(e.target.value)} rows={16} spellCheck />
              </label>
              <div className="md-preview" aria-label="Preview" role="region">
                <div dangerouslySetInnerHTML={{ __html: preview }} />
              </div>
            </div>
            <button type="button" className="primary" onClick={saveMarkdown} disabled={busy}>
              Save article
            </button>
          </section>
        </>
      ) : (
        <p className="notice info">Viewers read; an editor imports and writes articles.</p>
      )}
      <section className="card" aria-labelledby="recent-h">
        <h2 id="recent-h">Recent articles</h2>
        <ErrorBox error={articles.error} />
        <ul className="plain">
          {(articles.data?.items ?? []).map((a) => (
            <li key={a.id} className="row-item">
              <strong>{a.title}</strong> <span className="small muted">#{a.id} · {a.author || 'no author'} · {formatTime(a.publishedAt)}</span>
              {a.summary ? <div className="small">{a.summary}</div> : null}
              {editor ? (
                <button type="button" className="small-btn" onClick={() => void edit(a.id)} aria-label={`Edit ${a.title}`}>
                  Edit
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

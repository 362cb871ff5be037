/** Watch: a campaign's live progress over Server-Sent Events, pause / resume / cancel / retry failed, and the failed recipients with the server's reply. */
import { useEffect, useState } from 'react';
import { api, type Campaign, type Items, type Progress, type SendRow } from '../api.ts';
import { relayFaultWords } from '../relay.ts';
import { can, useSession } from '../session.ts';
import { ErrorBox, formatDuration, formatNumber, formatTime, Link, Loading, PageTitle, StatusBadge, useLoad } from '../ui.tsx';

const FINISHED = new Set(['sent', 'failed', 'cancelled']);

/** Progress of one campaign, kept live by /campaigns/{id}/events until it finishes. */
export function useLiveProgress(id: number): { progress: Progress | null; error: unknown; setProgress: (p: Progress) => void } {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let source: EventSource | null = new EventSource(`/api/v1/campaigns/${id}/events`);
    source.addEventListener('progress', (event) => {
      setProgress(JSON.parse((event as MessageEvent<string>).data) as Progress);
    });
    const close = () => {
      source?.close();
      source = null;
    };
    source.addEventListener('end', close);
    source.addEventListener('error', () => {
      // The stream ended or was refused (an expired session is a 401): read once through the API, which says why.
      close();
      api<Progress>('GET', `/campaigns/${id}`).then(setProgress, setError);
    });
    return close;
  }, [id]);
  return { progress, error, setProgress };
}

export function ProgressBar({ progress }: { progress: Progress }) {
  const { counts } = progress;
  const done = counts.sent + counts.failed + counts.skipped;
  const percent = counts.total === 0 ? 100 : Math.floor((done / counts.total) * 100);
  return (
    <div className="progress-block">
      <div className="progress" role="progressbar" aria-label={`Campaign #${progress.campaign.id}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-valuetext={`${percent}% (${formatNumber(done)} of ${formatNumber(counts.total)})`}>
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="progress-label">
        <strong data-testid="percent">{percent}%</strong> · {formatNumber(done)} of {formatNumber(counts.total)} · <StatusBadge status={progress.campaign.status} />
      </p>
    </div>
  );
}

export function LiveProgress({ id, compact = false }: { id: number; compact?: boolean }) {
  const { progress, error } = useLiveProgress(id);
  if (error) return <ErrorBox error={error} />;
  if (!progress) return <Loading what="progress" />;
  return compact ? <ProgressBar progress={progress} /> : <ProgressDetails progress={progress} />;
}

function ProgressDetails({ progress }: { progress: Progress }) {
  const { counts } = progress;
  const figures: [string, number | string][] = [
    ['Sent', formatNumber(counts.sent)],
    ['Deferred', formatNumber(counts.deferred)],
    ['Failed', formatNumber(counts.failed)],
    ['Skipped', formatNumber(counts.skipped)],
    ['Remaining', formatNumber(counts.remaining)],
    ['Rate', progress.ratePerMinute === null ? '—' : `${formatNumber(Math.round(progress.ratePerMinute))}/min`],
    ['ETA', formatDuration(progress.etaSeconds)],
  ];
  return (
    <>
      <ProgressBar progress={progress} />
      <dl className="figures">
        {figures.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

export function WatchPage({ id }: { id: number | null }) {
  if (id === null) return <CampaignList />;
  return <CampaignWatch id={id} />;
}

function CampaignList() {
  const { data, error } = useLoad(() => api<Items<Campaign>>('GET', '/campaigns?limit=50'), []);
  return (
    <>
      <PageTitle lead="Every campaign, newest first. Open one to watch it.">Watch</PageTitle>
      <ErrorBox error={error} />
      {data ? (
        <div className="table-wrap card">
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Status</th>
                <th scope="col">Scheduled</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/campaigns/${c.id}`}>Campaign #{c.id}</Link>
                  </td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{formatTime(c.scheduledAt)}</td>
                  <td>{formatTime(c.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.items.length === 0 ? <p className="muted">No campaign yet.</p> : null}
        </div>
      ) : null}
    </>
  );
}

function CampaignWatch({ id }: { id: number }) {
  const { session } = useSession();
  const { progress, error, setProgress } = useLiveProgress(id);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [failedKey, setFailedKey] = useState(0);
  const act = async (action: 'pause' | 'resume' | 'cancel' | 'retry-failed') => {
    if (action === 'cancel' && !window.confirm(`Cancel campaign #${id}? Recipients not yet mailed will be skipped.`)) return;
    setBusy(true);
    setActionError(null);
    try {
      setProgress(await api<Progress>('POST', `/campaigns/${id}/${action}`));
      setFailedKey((k) => k + 1);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };
  const status = progress?.campaign.status;
  const editor = can(session, 'editor');
  return (
    <>
      <PageTitle lead={progress ? `Created ${formatTime(progress.campaign.createdAt)}${progress.campaign.scheduledAt ? ` · sends from ${formatTime(progress.campaign.scheduledAt)}` : ''}` : undefined}>Campaign #{id}</PageTitle>
      <ErrorBox error={error} />
      <section className="card" aria-label="Progress">
        {progress ? <ProgressDetails progress={progress} /> : <Loading what="progress" />}
        {progress?.campaign.status === 'paused' && progress.campaign.pauseReason === 'smtp' && progress.campaign.relayFault ? (
          <p className="notice error">
            <strong>Paused: {relayFaultWords(progress.campaign.relayFault)}.</strong>
            {progress.campaign.resumeAfter ? ` Mailroom tries again at ${formatTime(progress.campaign.resumeAfter)}.` : ''}
          </p>
        ) : null}
        {progress?.campaign.lastError ? <p className="notice error">{progress.campaign.lastError}</p> : null}
        {editor ? (
          <div className="actions">
            <button type="button" onClick={() => void act('pause')} disabled={busy || status !== 'sending'}>
              Pause
            </button>
            <button type="button" onClick={() => void act('resume')} disabled={busy || status !== 'paused'}>
              Resume
            </button>
            <button type="button" onClick={() => void act('retry-failed')} disabled={busy || (progress?.counts.failed ?? 0) === 0}>
              Retry failed
            </button>
            <button type="button" className="danger" onClick={() => void act('cancel')} disabled={busy || status === undefined || FINISHED.has(status)}>
              Cancel
            </button>
          </div>
        ) : (
          <p className="muted small">Viewers watch; an editor pauses, resumes or cancels.</p>
        )}
        <ErrorBox error={actionError} />
      </section>
      <FailedRecipients key={`${failedKey}-${progress?.counts.failed ?? 0}`} id={id} />
    </>
  );
}

function FailedRecipients({ id }: { id: number }) {
  const { data, error } = useLoad(() => api<Items<SendRow>>('GET', `/campaigns/${id}/sends?status=failed&limit=100`), [id]);
  return (
    <section className="card" aria-labelledby="failed">
      <h2 id="failed">Failed recipients</h2>
      <ErrorBox error={error} />
      {data && data.items.length === 0 ? <p className="muted">None.</p> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Attempts</th>
                <th scope="col">Server's reply</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((s) => (
                <tr key={s.email}>
                  <td className="break">{s.email}</td>
                  <td>{s.attempts}</td>
                  <td className="break">{s.smtpResponse ?? s.error ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

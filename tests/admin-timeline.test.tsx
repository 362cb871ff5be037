/** One subscriber's history in the web app: the GDPR export (as GET /subscribers/{id}/export gives it) read into one timeline, newest first. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import { timelineOf } from '../web/src/pages/subscriber.tsx';

const EXPORT = {
  email: 'ada@example.org',
  lists: [{ listName: 'readers', status: 'unsubscribed', createdAt: '2026-11-01T09:00:00.000Z', consentSource: 'signup', consentAt: '2026-11-01T09:00:00.000Z', consentIp: '203.0.113.9', confirmedAt: '2026-11-01T09:05:00.000Z', confirmedIp: null, unsubscribedAt: '2026-11-20T10:00:00.000Z' }],
  sends: [
    { campaignId: 3, status: 'sent', attempts: 1, smtpResponse: '250 2.0.0 OK queued as 12AB', error: null, firstAttemptAt: '2026-11-05T08:00:00.000Z', updatedAt: '2026-11-05T08:00:01.000Z', newsletter: 'weekly', issueNumber: 4, issueSubject: 'Harbor news', listName: 'readers' },
    { campaignId: 5, status: 'failed', attempts: 3, smtpResponse: '550 5.1.1 mailbox unavailable', error: null, firstAttemptAt: '2026-11-12T08:00:00.000Z', updatedAt: '2026-11-12T08:30:00.000Z', newsletter: 'weekly', issueNumber: 5, issueSubject: 'Ferries', listName: 'readers' },
  ],
  deliveryEvents: [
    { campaignId: 5, kind: 'hard-bounce', status: '5.1.1', detail: 'mailbox unavailable', source: 'imap', action: 'suppressed', createdAt: '2026-11-12T09:00:00.000Z' },
    { campaignId: 3, kind: 'complaint', status: 'abuse', detail: '', source: 'imap', action: 'unsubscribed', createdAt: '2026-11-06T09:00:00.000Z' },
  ],
  suppression: { reason: 'bounce', detail: '5.1.1', createdAt: '2026-11-12T09:00:01.000Z' },
};

describe('the subscriber timeline', () => {
  test('lists joined, confirmed and left with consent; each send with status and SMTP reply; bounces, complaints, suppression; newest first', () => {
    const events = timelineOf(EXPORT);
    expect(events.map((e) => e.kind)).toEqual(['left', 'suppressed', 'bounce', 'sent', 'complaint', 'sent', 'confirmed', 'joined']);
    expect(events.map((e) => e.status ?? null)).toEqual([null, null, 'bounced', 'failed', 'complained', 'sent', null, null]);
    const text = (i: number) => renderToStaticMarkup(<>{events[i]?.title} — {events[i]?.detail}</>).replace(/<[^>]+>/g, '');
    expect(text(7)).toBe('Joined readers — Consent: signed up on the form from 203.0.113.9.');
    expect(text(3)).toBe('Issue #5 of weekly: Ferries — Campaign #5 to readers, 3 attempts. Server reply: 550 5.1.1 mailbox unavailable');
    expect(text(2)).toBe('Hard bounce 5.1.1 — mailbox unavailable Reported by imap; suppressed.');
    expect(text(4)).toBe('Reported an email as spam — Reported by imap; unsubscribed.');
    expect(text(1)).toBe('Never mailed again — Suppressed: bounce (5.1.1).');
  });

  test('an empty export gives an empty timeline', () => {
    expect(timelineOf({ email: 'x@example.org', lists: [], sends: [], deliveryEvents: [], suppression: null })).toEqual([]);
  });
});

/**
 * Deliverability settings (issue 13): VERP bounce addresses, where bounces come from (an IMAP mailbox, an inbound
 * SMTP listener, provider webhooks) and when soft bounces suppress. Read with the rest of the Config.
 */
import { z } from 'zod';
import { MailroomError, quote } from '../core/errors.ts';

export interface DeliverabilityConfig {
  /** Domain of the per-recipient Return-Path `bounces+TOKEN@BOUNCE_DOMAIN`; null: the From address is the envelope sender (no VERP). */
  readonly bounceDomain: string | null;
  /** imap(s)://user:password@host:port/Mailbox read by `bounces poll` and by `serve`; null: no mailbox. */
  readonly bounceImapUrl: string | null;
  readonly bouncePollSeconds: number;
  /** Port of the inbound SMTP listener for the bounce domain's MX (`serve`); null: off. */
  readonly bounceSmtpPort: number | null;
  readonly bounceSmtpHost: string;
  /** This many soft bounces (4.x.x) within the window suppress the address. */
  readonly softBounceLimit: number;
  readonly softBounceWindowDays: number;
  /** Provider webhooks: each route answers only when its secret is set. */
  readonly sesTopicArns: readonly string[];
  readonly postmarkWebhookAuth: string | null;
  readonly sendgridWebhookPublicKey: string | null;
  readonly mailgunWebhookSigningKey: string | null;
  /** How often `serve` looks for new events and delivers outbound webhooks (seconds). */
  readonly webhookTickSeconds: number;
}

type Get = (name: string) => string | undefined;

export function loadDeliverabilityConfig(get: Get, sourceOf: (name: string) => string): DeliverabilityConfig {
  const bad = (name: string, value: string, why: string): never => {
    throw new MailroomError('CONFIG', `${name}=${quote(value)} (from ${sourceOf(name)}): ${why}`);
  };
  const num = (name: string, fallback: number, schema: z.ZodType<number>): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) bad(name, raw, parsed.error.issues[0]?.message ?? 'invalid');
    return parsed.success ? parsed.data : fallback;
  };
  const domain = get('BOUNCE_DOMAIN')?.trim().toLowerCase() ?? null;
  if (domain !== null && !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$/.test(domain)) bad('BOUNCE_DOMAIN', domain, 'is not a domain name (e.g. bounces.example.com)');
  const imap = get('BOUNCE_IMAP_URL') ?? null;
  if (imap !== null) {
    let ok = false;
    try {
      const u = new URL(imap);
      ok = (u.protocol === 'imap:' || u.protocol === 'imaps:') && u.hostname !== '' && u.username !== '';
    } catch {
      ok = false;
    }
    if (!ok) bad('BOUNCE_IMAP_URL', imap.replace(/\/\/[^@/]*@/, '//…@'), 'expected imaps://user:password@host[:port][/Mailbox]');
  }
  const smtpPort = num('BOUNCE_SMTP_PORT', 0, z.coerce.number().int().min(0).max(65535));
  const sendgridKey = get('SENDGRID_WEBHOOK_PUBLIC_KEY') ?? null;
  const postmark = get('POSTMARK_WEBHOOK_AUTH') ?? null;
  if (postmark !== null && !postmark.includes(':')) bad('POSTMARK_WEBHOOK_AUTH', '(not shown)', 'expected user:password (the basic auth you set on the Postmark webhook URL)');
  return {
    bounceDomain: domain,
    bounceImapUrl: imap,
    bouncePollSeconds: num('BOUNCE_POLL_SECONDS', 300, z.coerce.number().min(5)),
    bounceSmtpPort: smtpPort > 0 ? smtpPort : null,
    bounceSmtpHost: get('BOUNCE_SMTP_HOST') ?? '0.0.0.0',
    softBounceLimit: num('SOFT_BOUNCE_LIMIT', 3, z.coerce.number().int().min(1).max(1000)),
    softBounceWindowDays: num('SOFT_BOUNCE_WINDOW_DAYS', 30, z.coerce.number().min(0.001)),
    sesTopicArns: (get('SES_SNS_TOPIC_ARNS') ?? '').split(/[\s,]+/).filter(Boolean),
    postmarkWebhookAuth: postmark,
    sendgridWebhookPublicKey: sendgridKey,
    mailgunWebhookSigningKey: get('MAILGUN_WEBHOOK_SIGNING_KEY') ?? null,
    webhookTickSeconds: num('WEBHOOK_TICK_SECONDS', 10, z.coerce.number().min(1).max(3600)),
  };
}

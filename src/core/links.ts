/** Every URL Mailroom puts in an email, built from PUBLIC_URL and the signing secret. */
import { signExpiringToken, signToken } from './tokens.ts';

export interface LinkSettings {
  readonly publicUrl: string;
  readonly secret: string;
}

export function unsubscribeUrl(settings: LinkSettings, subscriberId: number, listId: number): string {
  return `${settings.publicUrl}/u/${signToken(settings.secret, 'unsubscribe', { subscriberId, listId })}`;
}

export function preferencesUrl(settings: LinkSettings, subscriberId: number, listId: number): string {
  return `${settings.publicUrl}/p/${signToken(settings.secret, 'preferences', { subscriberId, listId })}`;
}

/** The sign-up confirmation link; it expires at `expiresAt`. */
export function confirmUrl(settings: LinkSettings, subscriberId: number, listId: number, expiresAt: Date): string {
  return `${settings.publicUrl}/confirm/${signExpiringToken(settings.secret, 'confirm', { subscriberId, listId }, expiresAt)}`;
}

/** The hosted sign-up page of a list (also where its embeddable form posts). */
export function signupUrl(settings: Pick<LinkSettings, 'publicUrl'>, listName: string): string {
  return `${settings.publicUrl}/subscribe/${encodeURIComponent(listName)}`;
}

/** The public archive of a newsletter's sent issues, and its RSS feed. */
export function archiveUrl(settings: Pick<LinkSettings, 'publicUrl'>, newsletterSlug: string): string {
  return `${settings.publicUrl}/issues/${encodeURIComponent(newsletterSlug)}`;
}

export function archiveFeedUrl(settings: Pick<LinkSettings, 'publicUrl'>, newsletterSlug: string): string {
  return `${archiveUrl(settings, newsletterSlug)}/feed.xml`;
}

export function issueWebUrl(settings: Pick<LinkSettings, 'publicUrl'>, newsletterSlug: string, issueNumber: number): string {
  return `${settings.publicUrl}/issues/${encodeURIComponent(newsletterSlug)}/${issueNumber}`;
}

export function articleWebUrl(settings: Pick<LinkSettings, 'publicUrl'>, slug: string): string {
  return `${settings.publicUrl}/articles/${encodeURIComponent(slug)}`;
}

/** Resolves a root-relative URL (e.g. "/media/logo.png") against PUBLIC_URL; absolute URLs stay as they are. */
export function absoluteUrl(settings: Pick<LinkSettings, 'publicUrl'>, url: string): string {
  if (url === '') return '';
  try {
    return new URL(url, `${settings.publicUrl}/`).toString();
  } catch {
    return url;
  }
}

/** Gmail's clipping of long messages: the one copy of the limits that sending and the email checks share. Pure. */

/** Gmail shows "[Message clipped]" and hides the rest (the footer with the unsubscribe link too) past about 102 KB of HTML. */
export const HTML_LIMIT_BYTES = 102 * 1024;

/** Past this the HTML is close enough to the limit to warn. */
export const HTML_WARN_BYTES = 90 * 1024;

export type ClipVerdict = 'ok' | 'near' | 'clipped';

/** The size of the HTML as Gmail counts it (UTF-8 bytes) and what Gmail will do with it. */
export function measureHtmlForGmail(html: string): { readonly bytes: number; readonly verdict: ClipVerdict } {
  const bytes = Buffer.byteLength(html, 'utf8');
  return { bytes, verdict: bytes > HTML_LIMIT_BYTES ? 'clipped' : bytes > HTML_WARN_BYTES ? 'near' : 'ok' };
}

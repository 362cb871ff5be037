/** Reading SMTP replies: which failures are temporary, which are permanent, and which mean "this address does not exist". */

/** The RFC 3463 enhanced status code in a reply ("550 5.1.1 …" → "5.1.1"), or null. */
export function enhancedCode(response: string | null): string | null {
  if (!response) return null;
  const match = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response);
  return match ? `${match[1]}.${match[2]}.${match[3]}` : null;
}

/**
 * A hard bounce: the mailbox or domain does not exist (5.1.x), judged on the enhanced code when there is one,
 * else on the usual wording. Policy blocks (5.7.x) and full mailboxes (5.2.2) are not hard bounces.
 */
export function isHardBounce(responseCode: number | null, response: string | null): boolean {
  if (responseCode === null || responseCode < 500 || responseCode >= 600) return false;
  const enhanced = enhancedCode(response);
  if (enhanced) return /^5\.1\.(1|2|3|6|10)$/.test(enhanced);
  return /no such (user|mailbox|recipient)|user unknown|unknown user|mailbox (not found|unavailable|does not exist)|does not exist|invalid recipient|recipient (address )?rejected/i.test(response ?? '');
}

/** Exponential backoff with full jitter between 50% and 100% of the step, capped. */
export function backoffMs(attempt: number, baseMs: number, capMs = 6 * 3600_000, random: () => number = Math.random): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + random() / 2));
}

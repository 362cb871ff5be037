/** A delivery status notification (RFC 3464) as an MTA sends it back to a message's Return-Path: one failed recipient. */
export interface HardBounce {
  /** The Return-Path (VERP) address the bounce is sent to. */
  readonly returnPath: string;
  /** The address that failed (Final-Recipient). */
  readonly recipient: string;
  /** The enhanced status code, e.g. 5.1.1. */
  readonly status: string;
  readonly messageId: string;
  /** The remote server's reply, when the MTA quotes it. */
  readonly diagnostic?: string;
}

export function hardBounceDsn(bounce: HardBounce): string {
  return [
    'From: MAILER-DAEMON@mx.example.net',
    `To: ${bounce.returnPath}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <${bounce.messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'failed',
    '--b',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    `Final-Recipient: rfc822; ${bounce.recipient}`,
    'Action: failed',
    `Status: ${bounce.status}`,
    ...(bounce.diagnostic ? [`Diagnostic-Code: smtp; ${bounce.diagnostic}`] : []),
    '--b--',
    '',
  ].join('\r\n');
}

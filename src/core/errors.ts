/** The one error type Mailroom throws at its edges: a stable code plus a message that names the thing, the value and where it came from. */

export type MailroomErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TEMPLATE'
  | 'PLACEHOLDER_NOT_ALLOWED'
  | 'MESSAGE_TOO_LARGE'
  | 'SMTP_UNAVAILABLE'
  | 'CONFIG'
  | 'TOKEN'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'LOCKED'
  | 'RATE_LIMITED';

export class MailroomError extends Error {
  readonly code: MailroomErrorCode;
  /** Extra lines shown under the message (e.g. every rejected row of an import). */
  readonly details: readonly string[];

  constructor(code: MailroomErrorCode, message: string, details: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailroomError';
    this.code = code;
    this.details = details;
  }
}

export function isMailroomError(error: unknown): error is MailroomError {
  return error instanceof MailroomError;
}

/** Quote a user-supplied value for an error message, shortened so a huge value cannot flood a terminal. */
export function quote(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : String(value);
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(short);
}

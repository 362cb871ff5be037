/** The rule for list names, shared by `mailroom lists create` and the API. */
import { MailroomError, quote } from '../core/errors.ts';

export function checkListName(name: string, label: string): string {
  if (!/^[\w.-]{1,64}$/.test(name)) throw new MailroomError('INVALID_INPUT', `${label} ${quote(name)}: use 1-64 letters, digits, '.', '_' or '-'`);
  return name;
}

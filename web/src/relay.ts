/** What the web app says about the SMTP relay, from the structured fault the API reports (never from an error's wording). */
import type { RelayFault } from './api.ts';

const WORDS: Readonly<Record<RelayFault, string>> = {
  'refusing-logins': 'The SMTP relay refuses the login',
  unreachable: 'The SMTP relay cannot be reached',
  failing: 'The SMTP relay answers with an error',
};

export function relayFaultWords(fault: RelayFault): string {
  return WORDS[fault];
}

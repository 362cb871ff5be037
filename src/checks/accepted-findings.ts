/**
 * The caniemail findings Mailroom's own templates keep on purpose: each is an enhancement for the clients that
 * support it, with a fallback for those that do not. The README lists the same set; a test renders every template
 * and checks that its findings are exactly these (a new one must be removed or added here with its fallback).
 */

import type { ClientSupportFinding } from './email-checks.ts';

export interface AcceptedFinding {
  /** caniemail's feature name, as doiuse-email reports it. */
  readonly feature: string;
  /** Exactly the checked clients (DEFAULT_CHECKED_CLIENTS) that do not support it. */
  readonly clients: readonly string[];
  /** What the templates use it for. */
  readonly use: string;
  /** What readers of the clients without it get. */
  readonly fallback: string;
}

const STYLE_BLOCK_FALLBACK = 'Gmail\'s mobile web client (non-Google accounts) ignores the whole <style> block; every color, size and spacing is also inline, so it shows the light, fluid layout.';

export const ACCEPTED_FINDINGS: readonly AcceptedFinding[] = [
  {
    feature: '@media',
    clients: ['gmail.mobile-webmail', 'outlook.windows', 'outlook.windows-mail'],
    use: 'Dark mode (prefers-color-scheme) and the narrower gutter and title on small screens.',
    fallback: 'The light design from the inline styles; the column is fluid anyway, and exactly 600px in Outlook on Windows.',
  },
  {
    feature: 'Attribute selector',
    clients: ['gmail.mobile-webmail', 'outlook.windows', 'outlook.windows-mail'],
    use: 'Outlook.com marks elements it recolors in dark mode with data-ogsc / data-ogsb; the rules keep text and surfaces readable there.',
    fallback: 'The rules simply do not apply; those clients never add the attributes.',
  },
  { feature: 'Class selector', clients: ['gmail.mobile-webmail'], use: 'The dark-mode and small-screen rules target classes.', fallback: STYLE_BLOCK_FALLBACK },
  { feature: 'Type selector', clients: ['gmail.mobile-webmail'], use: 'Resets for body and img in the <style> block.', fallback: STYLE_BLOCK_FALLBACK },
  { feature: 'Descendant combinator', clients: ['gmail.mobile-webmail'], use: 'The a img reset and the Outlook.com dark-mode rules.', fallback: STYLE_BLOCK_FALLBACK },
  {
    feature: '<body> element',
    clients: ['outlook.android', 'outlook.ios', 'outlook.macos', 'yahoo.android', 'yahoo.ios'],
    use: 'The document body (these clients replace it with their own element).',
    fallback: 'A full-width table inside the body carries the page color and the column, so nothing depends on the body\'s style.',
  },
  {
    feature: 'border-radius',
    clients: ['outlook.windows', 'outlook.windows-mail'],
    use: 'Rounded corners on buttons, images and code blocks.',
    fallback: 'Square corners.',
  },
  {
    feature: 'display:none',
    clients: ['gmail.mobile-webmail'],
    use: 'Hides the preheader (the inbox preview text) in the body, with opacity, overflow and max-height (React Email\'s Preview).',
    fallback: 'Every checked client supports at least one of the four: Gmail\'s mobile web client hides it with max-height and overflow.',
  },
  {
    feature: 'opacity',
    clients: ['gmail.mobile-webmail', 'outlook.windows', 'outlook.windows-mail', 'yahoo.android', 'yahoo.desktop-webmail', 'yahoo.ios'],
    use: 'Hides the preheader (see display:none).',
    fallback: 'display:none hides it there.',
  },
  {
    feature: 'overflow',
    clients: ['outlook.android', 'outlook.windows', 'outlook.windows-mail', 'yahoo.android'],
    use: 'Hides the preheader (see display:none).',
    fallback: 'display:none hides it there.',
  },
  {
    feature: 'role attribute',
    clients: ['outlook.windows-mail'],
    use: 'role="presentation" on layout tables, so screen readers do not announce rows and columns.',
    fallback: 'Windows Mail\'s screen reader users hear the layout tables as tables.',
  },
  {
    feature: 'white-space',
    clients: ['outlook.windows', 'outlook.windows-mail'],
    use: 'Code blocks in articles wrap long lines (pre-wrap).',
    fallback: 'The <pre> element keeps its lines as written; a long line widens the block.',
  },
  {
    feature: 'word-break',
    clients: ['outlook.windows-mail', 'yahoo.android', 'yahoo.desktop-webmail', 'yahoo.ios'],
    use: 'Long words in code blocks and the confirmation link break instead of widening the column on phones.',
    fallback: 'A very long word or link stays whole and may need sideways scrolling on a narrow screen.',
  },
];

/** The accepted entry that covers `finding` (same feature, every client listed), if any. */
export function findAcceptedFinding(finding: ClientSupportFinding): AcceptedFinding | undefined {
  const accepted = ACCEPTED_FINDINGS.find((entry) => entry.feature === finding.feature);
  return accepted && finding.clients.every((client) => accepted.clients.includes(client)) ? accepted : undefined;
}

/** Renders an issue's React template once, with Handlebars placeholders for the recipient, into HTML and plain text. */

import { render } from '@react-email/render';
import { createElement } from 'react';
import ArticleEmail from '../../emails/article.tsx';
import DigestEmail from '../../emails/digest.tsx';
import type { ArticleEmailProps, DigestEmailProps } from '../../emails/types.ts';
import { MailroomError } from '../core/errors.ts';
import { RECIPIENT_PLACEHOLDERS } from '../personalization/variables.ts';
import { htmlToPlainText } from './plain-text.ts';

export type TemplateInput =
  | { template: 'digest'; props: Omit<DigestEmailProps, 'recipient'> }
  | { template: 'article'; props: Omit<ArticleEmailProps, 'recipient'> };

export interface RenderedIssue {
  /** Full HTML document; contains `{{placeholder}}`s for the recipient and `\{{` where the content had a literal `{{`. */
  html: string;
  /** The text/plain alternative, with the same placeholders and escapes. */
  text: string;
}

/**
 * Stands in for every `{` of the content while React renders, so no content can form a Handlebars tag. A private-use
 * character: it has no meaning anywhere else, and any already in the content is removed first.
 */
const BRACE_SENTINEL = '\uE000';
/** The sentinel as it appears after URL parsing percent-encodes it in an `href` or `src`. */
const ENCODED_SENTINEL = /%EE%80%80/gi;

/** Replace every `{` in every string of `value` (deeply) with the sentinel. */
function shieldBraces<T>(value: T): T {
  if (typeof value === 'string') {
    return value.replaceAll(BRACE_SENTINEL, '').replaceAll('{', BRACE_SENTINEL) as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => shieldBraces(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shieldBraces(item)])) as T;
  }
  return value;
}

/**
 * Turn the sentinels back into braces. A pair becomes `\{{`, which Handlebars prints as a literal `{{`. A backslash the
 * content put right before a pair would turn `\{{` into `\\{{` (a live tag after a literal backslash), so a zero-width
 * space is slipped between them.
 */
function restoreBraces(output: string): string {
  return output
    .replace(ENCODED_SENTINEL, BRACE_SENTINEL)
    .replace(
      /(\\*)\uE000\uE000/g,
      (_match, backslashes: string) => `${backslashes}${backslashes === '' ? '' : '\u200B'}\\{{`,
    )
    .replaceAll(BRACE_SENTINEL, '{');
}

function createTemplateElement(input: TemplateInput) {
  switch (input.template) {
    case 'digest':
      return createElement(DigestEmail, { ...shieldBraces(input.props), recipient: RECIPIENT_PLACEHOLDERS });
    case 'article':
      return createElement(ArticleEmail, { ...shieldBraces(input.props), recipient: RECIPIENT_PLACEHOLDERS });
  }
}

/** Render the issue once. The result is shared by every recipient; personalization fills the placeholders later. */
export async function renderIssue(input: TemplateInput): Promise<RenderedIssue> {
  let html: string;
  try {
    html = await render(createTemplateElement(input));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MailroomError('TEMPLATE', `Could not render the "${input.template}" template: ${reason}`, [], {
      cause: error,
    });
  }
  const text = htmlToPlainText(html);
  return { html: restoreBraces(html), text: restoreBraces(text) };
}

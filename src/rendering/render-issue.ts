/** Renders an issue's React template once, with Handlebars placeholders for the recipient, into HTML and plain text. */

import { randomBytes } from 'node:crypto';
import { render } from '@react-email/render';
import { createElement } from 'react';
import ArticleEmail from '../../emails/article.tsx';
import DigestEmail from '../../emails/digest.tsx';
import type { ArticleEmailProps, DigestEmailProps, EmailIssueInfo, RecipientPlaceholders } from '../../emails/types.ts';
import { MailroomError } from '../core/errors.ts';
import { templateSource, type SourcePart, type TemplateSource } from '../personalization/template-source.ts';
import { RECIPIENT_VARIABLES } from '../personalization/variables.ts';
import { htmlToPlainText } from './plain-text.ts';

/**
 * The issue line of a template: its subject and preheader are Handlebars sources (the operator's pattern, content
 * in it escaped), so they can greet the reader; everything else a template renders is content.
 */
export interface IssueSources extends Omit<EmailIssueInfo, 'subject' | 'preheader'> {
  readonly subject: TemplateSource;
  readonly preheader: TemplateSource;
}

export type TemplateInput =
  | { template: 'digest'; props: Omit<DigestEmailProps, 'recipient' | 'issue'> & { readonly issue: IssueSources } }
  | { template: 'article'; props: Omit<ArticleEmailProps, 'recipient' | 'issue'> & { readonly issue: IssueSources } };

export interface RenderedIssue {
  /** Full HTML document: Handlebars source in which only the recipient placeholders and the subject's and preheader's own tags are live. */
  html: TemplateSource;
  /** The text/plain alternative, the same way. */
  text: TemplateSource;
}

/** React Email's <Preview> cuts its text at this length. */
const PREVIEW_MAX_LENGTH = 150;

/**
 * Where a template puts a recipient variable, the subject or the preheader, it gets a marker made of letters and
 * digits around a random nonce drawn for this render: nothing in the content can spell it (the content exists
 * before the nonce does), and no escaping, URL encoding, entity decoding or text conversion in between changes it.
 * After rendering, everything but the markers is content and becomes literal text; the markers become the live parts.
 */
interface Markers {
  readonly recipient: RecipientPlaceholders;
  readonly subject: string;
  readonly preheader: string;
  readonly pattern: RegExp;
}

function makeMarkers(preheaderLength: number): Markers {
  const nonce = randomBytes(8).toString('hex');
  const mark = (key: string, padding = 0) => `${nonce}Z${key}${'Z'.repeat(1 + padding)}${nonce}`;
  const recipient = Object.fromEntries(RECIPIENT_VARIABLES.map((name) => [name, mark(name)])) as unknown as RecipientPlaceholders;
  // The preheader's marker is about as long as its text, so <Preview> pads it with as much filler as it would the text.
  const preheaderMarker = mark('preheader');
  const padding = Math.max(0, Math.min(PREVIEW_MAX_LENGTH, preheaderLength) - preheaderMarker.length);
  return { recipient, subject: mark('subject'), preheader: mark('preheader', padding), pattern: new RegExp(`${nonce}Z([A-Za-z]+?)Z+${nonce}`, 'g') };
}

/** Escapes the characters HTML text must not hold as they are; the source's own `{{…}}` tags hold none of them. */
function escapeHtmlText(source: string): string {
  return source.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Turns rendered output into Handlebars source: the markers become the live parts, everything else is literal. */
function toTemplateSource(output: string, markers: Markers, issue: IssueSources, format: 'html' | 'text'): TemplateSource {
  const parts: SourcePart[] = [];
  let from = 0;
  for (const match of output.matchAll(markers.pattern)) {
    parts.push({ literal: output.slice(from, match.index) });
    const key = match[1] as string;
    if (key === 'subject' || key === 'preheader') parts.push({ source: format === 'html' ? escapeHtmlText(issue[key]) : issue[key] });
    else if ((RECIPIENT_VARIABLES as readonly string[]).includes(key)) parts.push({ source: `{{${key}}}` });
    else throw new MailroomError('TEMPLATE', `renderIssue: unknown marker ${JSON.stringify(key)}`);
    from = match.index + match[0].length;
  }
  parts.push({ literal: output.slice(from) });
  return templateSource(parts);
}

function createTemplateElement(input: TemplateInput, markers: Markers) {
  const issue: EmailIssueInfo = { ...input.props.issue, subject: markers.subject, preheader: markers.preheader };
  switch (input.template) {
    case 'digest':
      return createElement(DigestEmail, { ...input.props, issue, recipient: markers.recipient });
    case 'article':
      return createElement(ArticleEmail, { ...input.props, issue, recipient: markers.recipient });
  }
}

/**
 * Render the issue once. The result is shared by every recipient; personalization fills the placeholders later.
 * Content (titles, names, summaries, bodies, URLs: every prop but the issue's subject and preheader) can never
 * become a placeholder, whatever it holds and whatever the template does with it (a Markdown entity `&#123;` that
 * decodes to `{` included).
 */
export async function renderIssue(input: TemplateInput): Promise<RenderedIssue> {
  const markers = makeMarkers(input.props.issue.preheader.length);
  let html: string;
  try {
    html = await render(createTemplateElement(input, markers));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MailroomError('TEMPLATE', `Could not render the "${input.template}" template: ${reason}`, [], {
      cause: error,
    });
  }
  const text = htmlToPlainText(html);
  return { html: toTemplateSource(html, markers, input.props.issue, 'html'), text: toTemplateSource(text, markers, input.props.issue, 'text') };
}

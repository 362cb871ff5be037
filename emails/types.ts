/** Props of the email templates, shared by the templates, the renderer and the app that fills them. */

import type { RecipientPlaceholders } from '../src/personalization/variables.ts';

export type { RecipientPlaceholders };

/** What a template receives as `recipient`: what stands for each variable (becomes a Handlebars placeholder; in previews, a sample value). */
export type RecipientProps = RecipientPlaceholders;

export interface EmailImage {
  readonly url: string;
  readonly alt: string;
}

export interface EmailArticle {
  readonly title: string;
  readonly summary: string;
  /** Markdown. */
  readonly body: string;
  /** Absolute URL of the article on the web; also the base for relative links and images in `body`. */
  readonly url: string;
  readonly author: string;
  /** ISO 8601 timestamp. */
  readonly publishedAt: string;
  readonly leadImage: EmailImage | null;
  readonly tags: readonly string[];
}

export interface EmailBrand {
  readonly name: string;
  /** Absolute URL of the logo, or '' for none (the name is shown as text). */
  readonly logoUrl: string;
  /** Sender's postal address, required in the footer (CAN-SPAM). May contain line breaks. */
  readonly postalAddress: string;
  readonly websiteUrl: string;
  /** BCP 47 language tag, e.g. 'en'; the `lang` attribute and the locale of dates. */
  readonly language: string;
}

export interface EmailIssueInfo {
  readonly subject: string;
  /** Inbox preview text shown after the subject. */
  readonly preheader: string;
  readonly number: number;
  /** ISO 8601 timestamp. */
  readonly date: string;
}

export interface DigestEmailProps {
  readonly brand: EmailBrand;
  readonly issue: EmailIssueInfo;
  readonly lead: EmailArticle;
  readonly others: readonly EmailArticle[];
  readonly recipient: RecipientPlaceholders;
}

export interface ArticleEmailProps {
  readonly brand: EmailBrand;
  readonly issue: EmailIssueInfo;
  readonly article: EmailArticle;
  readonly recipient: RecipientPlaceholders;
}

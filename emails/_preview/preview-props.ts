/**
 * The templates' PreviewProps: the newest real issue when `npm run preview-props` exported one, else the shipped
 * sample (local images, dates relative to today). Computed each time a preview asks, so they are never stale.
 */

import type { ConfirmEmailProps } from '../confirm.tsx';
import type { ArticleEmailProps, DigestEmailProps } from '../types.ts';
import { readLatestIssue } from './latest-issue.ts';
import { sampleArticleIssue, sampleBrand, sampleDigestIssue, sampleRecipient } from './sample.ts';

/** `file`: where the exported issue is (default emails/_preview/latest-issue.json). */
export function previewDigestProps(now = new Date(), file?: string): DigestEmailProps {
  const { brand, issue, articles } = readLatestIssue(file) ?? sampleDigestIssue(now);
  const [lead, ...others] = articles;
  if (lead === undefined) throw new Error('a preview issue needs at least one article');
  return { brand, issue, lead, others, recipient: sampleRecipient(issue.number) };
}

export function previewArticleProps(now = new Date(), file?: string): ArticleEmailProps {
  const { brand, issue, articles } = readLatestIssue(file) ?? sampleArticleIssue(now);
  const [article] = articles;
  if (article === undefined) throw new Error('a preview issue needs at least one article');
  return { brand, issue, article, recipient: sampleRecipient(issue.number) };
}

export function previewConfirmProps(now = new Date(), file?: string): ConfirmEmailProps {
  const brand = readLatestIssue(file)?.brand ?? sampleBrand();
  const expires = new Date(now.getTime() + 7 * 24 * 60 * 60 * 1000);
  return {
    brand,
    kind: 'confirm',
    email: 'ada@example.com',
    listLabel: brand.name,
    actionUrl: `${brand.websiteUrl}/confirm/1.1.preview-token`,
    expiresAt: expires.toISOString(),
    requestedAt: now.toISOString(),
  };
}

/**
 * Gives a template its PreviewProps as a getter (React Email's preview server and `templates render` read
 * `Template.PreviewProps`), so they are computed when asked for, not when the template is imported to send.
 */
export function withPreviewProps<Component extends object, Props>(
  component: Component,
  props: () => Props,
): Component & { readonly PreviewProps: Props } {
  Object.defineProperty(component, 'PreviewProps', { get: () => props(), enumerable: true, configurable: true });
  return component as Component & { readonly PreviewProps: Props };
}

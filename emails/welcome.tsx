/**
 * The welcome email a list may send when someone confirms (issue 13; `mailroom lists welcome LIST on`). The
 * operator's message is text (content is data, never a template): shown as paragraphs, exactly as written.
 */

import { Heading, Text } from '@react-email/components';
import { readLatestIssue } from './_preview/latest-issue.ts';
import { withPreviewProps } from './_preview/preview-props.ts';
import { sampleBrand } from './_preview/sample.ts';
import { CtaButton } from './components/button.tsx';
import { Layout, Panel, panelHeadingStyle, mutedStyle, textStyle } from './components/layout.tsx';
import { classNames, colors, fontSizes, fonts, lineHeights, spacing } from './theme.ts';
import type { EmailBrand } from './types.ts';

export interface WelcomeEmailProps {
  readonly brand: EmailBrand;
  /** The recipient's address. */
  readonly email: string;
  readonly firstName: string;
  /** What they subscribed to, e.g. the newsletter's name. */
  readonly listLabel: string;
  /** The operator's subject, or '' for the default. */
  readonly subject: string;
  /** The operator's message (plain text, blank lines between paragraphs), or '' for the default. */
  readonly message: string;
  /** The public archive of the list's newsletter, or '' when it is not public. */
  readonly archiveUrl: string;
  readonly unsubscribeUrl: string;
  readonly preferencesUrl: string;
  /** ISO 8601: when it was sent. */
  readonly sentAt: string;
}

export function welcomeEmailSubject(props: Pick<WelcomeEmailProps, 'subject' | 'listLabel'>): string {
  return props.subject.trim() || `Welcome to ${props.listLabel}`;
}

function WelcomeEmail(props: WelcomeEmailProps) {
  const { brand, email, firstName, listLabel, message, archiveUrl, unsubscribeUrl, preferencesUrl, sentAt } = props;
  const subject = welcomeEmailSubject(props);
  const paragraphs = (message.trim() || `Thank you for subscribing to ${listLabel}. The next issue will be in your inbox when it comes out.`).split(/\r?\n\s*\r?\n/);
  return (
    <Layout
      brand={brand}
      issue={{ subject, preheader: paragraphs[0]?.slice(0, 120) ?? '', number: 0, date: sentAt }}
      recipient={{ firstName, lastName: '', fullName: firstName, email, unsubscribeUrl, preferencesUrl, webVersionUrl: '' }}
      notice={`You received this email because ${email} confirmed a subscription to ${listLabel}.`}
    >
      <Panel paddingY={spacing.lg}>
        <Heading as="h1" className={`${classNames.text} ${classNames.title}`} style={panelHeadingStyle}>
          {firstName ? `Welcome, ${firstName}!` : 'Welcome!'}
        </Heading>
        {paragraphs.map((p, i) => (
          <Text key={i} className={classNames.text} style={textStyle}>
            {p.trim()}
          </Text>
        ))}
        {archiveUrl ? (
          <Text style={{ ...textStyle, margin: `${spacing.sm}px 0 ${spacing.lg}px` }}>
            <CtaButton href={archiveUrl}>Read the past issues</CtaButton>
          </Text>
        ) : null}
        <Text className={classNames.muted} style={mutedStyle}>
          {'You can change your subscription or unsubscribe at any time with the links below.'}
        </Text>
      </Panel>
    </Layout>
  );
}

export function previewWelcomeProps(now = new Date()): WelcomeEmailProps {
  const brand = readLatestIssue()?.brand ?? sampleBrand();
  return {
    brand,
    email: 'ada@example.com',
    firstName: 'Ada',
    listLabel: brand.name,
    subject: '',
    message: '',
    archiveUrl: `${brand.websiteUrl}/issues`,
    unsubscribeUrl: `${brand.websiteUrl}/u/preview-token`,
    preferencesUrl: `${brand.websiteUrl}/p/preview-token`,
    sentAt: now.toISOString(),
  };
}

export default withPreviewProps(WelcomeEmail, () => previewWelcomeProps());

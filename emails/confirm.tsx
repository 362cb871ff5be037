/**
 * The sign-up confirmation email (double opt-in), on the shared layout. Also the "you are already subscribed" notice
 * sent when a sign-up names an address that is on the list already, so the form's answer never reveals who is.
 * It never shows what the form's visitor typed besides the address itself: a name field is a spam vector.
 */

import { Heading, Text } from '@react-email/components';
import { previewConfirmProps, withPreviewProps } from './_preview/preview-props.ts';
import { CtaButton } from './components/button.tsx';
import { EmailLink } from './components/elements.tsx';
import { Layout, Panel, panelHeadingStyle, formatEmailDate, linkStyle, mutedStyle, textStyle } from './components/layout.tsx';
import { classNames, colors, fontSizes, fonts, lineHeights, spacing } from './theme.ts';
import type { EmailBrand } from './types.ts';

export interface ConfirmEmailProps {
  readonly brand: EmailBrand;
  /** 'confirm': the membership waits for this click. 'already-subscribed': the address already gets the list. */
  readonly kind: 'confirm' | 'already-subscribed';
  /** The address the request named (the recipient). */
  readonly email: string;
  /** What the request was for, e.g. the newsletter's name. */
  readonly listLabel: string;
  /** confirm: the confirmation page. already-subscribed: the preferences page. */
  readonly actionUrl: string;
  /** ISO 8601: when a confirmation link stops working. */
  readonly expiresAt: string;
  /** ISO 8601: when the request was made. */
  readonly requestedAt: string;
}

/** The subject line of the message for these props. */
export function confirmEmailSubject(props: Pick<ConfirmEmailProps, 'kind' | 'listLabel'>): string {
  return props.kind === 'confirm' ? `Confirm your subscription to ${props.listLabel}` : `You are already subscribed to ${props.listLabel}`;
}

function ConfirmEmail(props: ConfirmEmailProps) {
  const { brand, kind, email, listLabel, actionUrl, expiresAt, requestedAt } = props;
  const subject = confirmEmailSubject(props);
  const confirming = kind === 'confirm';
  const preheader = confirming
    ? `One click and ${listLabel} starts arriving. Nothing is sent until you confirm.`
    : `Nothing changed: ${email} already receives ${listLabel}.`;
  const notice = confirming
    ? `You received this one email because ${email} was entered on the sign-up form of ${brand.name}. Without your confirmation, no list will mail you.`
    : `You received this email because ${email} was entered on the sign-up form of ${brand.name}.`;
  return (
    <Layout
      brand={brand}
      issue={{ subject, preheader, number: 0, date: requestedAt }}
      recipient={{ firstName: '', lastName: '', fullName: '', email, unsubscribeUrl: '', preferencesUrl: '', webVersionUrl: '' }}
      notice={notice}
    >
      <Panel paddingY={spacing.lg}>
        <Heading as="h1" className={`${classNames.text} ${classNames.title}`} style={panelHeadingStyle}>
          {confirming ? 'Confirm your subscription' : 'You are already subscribed'}
        </Heading>
        <Text className={classNames.text} style={textStyle}>
          {confirming
            ? `Someone, hopefully you, asked to subscribe ${email} to ${listLabel}. Confirm that it was you and the next issue will be in your inbox.`
            : `Someone, hopefully you, asked to subscribe ${email} to ${listLabel}. This address already receives it, so nothing changed.`}
        </Text>
        <Text style={{ ...textStyle, margin: `${spacing.sm}px 0 ${spacing.lg}px` }}>
          <CtaButton href={actionUrl}>{confirming ? 'Yes, subscribe me' : 'Manage your subscription'}</CtaButton>
        </Text>
        <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.md }}>
          {'Or open this link: '}
          <EmailLink className={classNames.link} href={actionUrl} style={{ ...linkStyle, wordBreak: 'break-all' }}>
            {actionUrl}
          </EmailLink>
        </Text>
        <Text className={classNames.muted} style={mutedStyle}>
          {confirming
            ? `The link works until ${formatEmailDate(expiresAt, brand.language)}. If you did not ask for this, ignore this email: you will not hear from us again.`
            : 'If you did not ask for this, you can ignore this email.'}
        </Text>
      </Panel>
    </Layout>
  );
}

export default withPreviewProps(ConfirmEmail, previewConfirmProps);

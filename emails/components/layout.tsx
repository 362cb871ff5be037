/**
 * The frame every Mailroom email shares: head (color scheme, styles), preheader, header, one fluid column at most
 * 600px wide (exactly 600px in Outlook on Windows, through an MSO-only "ghost" table) and the footer.
 */

import { Container, Head, Html, Preview, Text } from '@react-email/components';
import type { CSSProperties, ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { EmailImage, EmailLink, emailOnly } from './elements.tsx';
import { classNames, colors, darkColors, fontSizes, fonts, layout, lineHeights, spacing } from '../theme.ts';
import type { EmailBrand, EmailIssueInfo, RecipientPlaceholders } from '../types.ts';

export interface LayoutProps {
  readonly brand: EmailBrand;
  readonly issue: EmailIssueInfo;
  readonly recipient: RecipientPlaceholders;
  readonly children: ReactNode;
  /**
   * A one-off message rather than an issue (e.g. a sign-up confirmation): no "View in browser" and no issue line in
   * the header, and this text in the footer instead of the subscription links. Issues leave it out.
   */
  readonly notice?: ReactNode;
}

/** Dark-mode and narrow-screen overrides. Inline styles carry the light design; clients without `<style>` support still get it. */
const css = `
body { margin: 0; padding: 0; width: 100% !important; -webkit-text-size-adjust: 100%; -ms-text-size-adjust: 100%; }
img { border: 0; text-decoration: none; -ms-interpolation-mode: bicubic; }
a img { border: 0; }
@media only screen and (max-width: 620px) {
  .${classNames.gutter} { padding-left: ${layout.gutterNarrow}px !important; padding-right: ${layout.gutterNarrow}px !important; }
  .${classNames.title} { font-size: 22px !important; line-height: 1.3 !important; }
}
@media (prefers-color-scheme: dark) {
  .${classNames.canvas} { background-color: ${darkColors.canvas} !important; color: ${darkColors.text} !important; }
  .${classNames.surface} { background-color: ${darkColors.surface} !important; color: ${darkColors.text} !important; }
  .${classNames.text} { color: ${darkColors.text} !important; }
  .${classNames.muted} { color: ${darkColors.muted} !important; }
  .${classNames.link} { color: ${darkColors.link} !important; }
  .${classNames.button} { background-color: ${darkColors.buttonBackground} !important; border-color: ${darkColors.buttonBackground} !important; color: ${darkColors.buttonText} !important; }
  .${classNames.border} { border-color: ${darkColors.border} !important; }
  .${classNames.code} { background-color: ${darkColors.codeBackground} !important; color: ${darkColors.codeText} !important; }
}
[data-ogsc] .${classNames.text} { color: ${darkColors.text} !important; }
[data-ogsc] .${classNames.muted} { color: ${darkColors.muted} !important; }
[data-ogsc] .${classNames.link} { color: ${darkColors.link} !important; }
[data-ogsb] .${classNames.canvas} { background-color: ${darkColors.canvas} !important; }
[data-ogsb] .${classNames.surface} { background-color: ${darkColors.surface} !important; }
`;

/** Format an ISO timestamp as a long date in the email's language; an unparsable value is returned as is. */
export function formatEmailDate(iso: string, language: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' };
  try {
    return new Intl.DateTimeFormat(language, options).format(date);
  } catch {
    return new Intl.DateTimeFormat('en', options).format(date);
  }
}

export const textStyle: CSSProperties = {
  color: colors.text,
  fontFamily: fonts.body,
  fontSize: fontSizes.body,
  lineHeight: lineHeights.body,
  margin: `0 0 ${spacing.md}px`,
};

/** A panel's heading (the confirmation and welcome messages). */
export const panelHeadingStyle: CSSProperties = {
  color: colors.text,
  fontFamily: fonts.heading,
  fontSize: fontSizes.h2,
  lineHeight: lineHeights.heading,
  fontWeight: 700,
  margin: `0 0 ${spacing.md}px`,
};

export const mutedStyle: CSSProperties = {
  color: colors.muted,
  fontFamily: fonts.body,
  fontSize: fontSizes.small,
  lineHeight: lineHeights.small,
  margin: 0,
};

export const linkStyle: CSSProperties = {
  color: colors.link,
  textDecoration: 'underline',
};

export interface PanelProps {
  /** 'surface' for content (white in light mode), 'canvas' for the page around it. */
  readonly tone?: 'surface' | 'canvas';
  /** Vertical padding in px; horizontal padding is the layout gutter. */
  readonly paddingY?: number;
  /** A hairline above (or below) the panel, to separate it from its neighbour. */
  readonly borderTop?: boolean;
  readonly borderBottom?: boolean;
  readonly align?: 'left' | 'center';
  /** Part of the email only: the web copy of the issue leaves the panel out (see `emailOnly`). */
  readonly emailOnly?: boolean;
  readonly children: ReactNode;
}

/** One full-width row of the column, with its background and text color both set so inverted or dark clients keep contrast. */
export function Panel({
  tone = 'surface',
  paddingY = spacing.lg,
  borderTop = false,
  borderBottom = false,
  align = 'left',
  emailOnly: onlyInEmail = false,
  children,
}: PanelProps) {
  const background = tone === 'surface' ? colors.surface : colors.canvas;
  const className = [
    tone === 'surface' ? classNames.surface : classNames.canvas,
    classNames.gutter,
    borderTop || borderBottom ? classNames.border : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <table
      role="presentation"
      width="100%"
      cellPadding={0}
      cellSpacing={0}
      border={0}
      style={{ width: '100%', borderCollapse: 'collapse' }}
      {...(onlyInEmail ? emailOnly : {})}
    >
      <tbody>
        <tr>
          <td
            className={className}
            style={{
              backgroundColor: background,
              color: colors.text,
              padding: `${paddingY}px ${layout.gutter}px`,
              textAlign: align,
              borderTop: borderTop ? `1px solid ${colors.border}` : undefined,
              borderBottom: borderBottom ? `1px solid ${colors.border}` : undefined,
            }}
          >
            {children}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/** Lines of the postal address, one per element, so a multi-line address keeps its shape. */
function renderAddress(address: string): ReactNode[] {
  const lines = address
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines.flatMap((line, index) => (index === 0 ? [line] : [<br key={`br-${index}`} />, line]));
}

/** "View in browser" above the column, then the logo or name of the newsletter and the issue line. */
function PageHeader({ brand, issue, recipient, notice }: Omit<LayoutProps, 'children'>) {
  const mutedLinkStyle = { ...linkStyle, color: colors.muted };
  return (
    <>
      {notice === undefined ? (
        <Panel tone="canvas" paddingY={spacing.sm} align="center" emailOnly>
          <Text className={classNames.muted} style={{ ...mutedStyle, fontSize: 12 }}>
            <EmailLink className={classNames.link} href={recipient.webVersionUrl} style={mutedLinkStyle}>
              View in browser
            </EmailLink>
          </Text>
        </Panel>
      ) : null}
      <Panel paddingY={spacing.lg} borderBottom>
        {brand.logoUrl !== '' ? (
          <EmailLink href={brand.websiteUrl} data-skip-in-text="true" style={{ display: 'block', marginBottom: spacing.sm }}>
            <EmailImage
              src={brand.logoUrl}
              alt={brand.name}
              height={40}
              style={{ height: 40, width: 'auto', maxWidth: '100%' }}
            />
          </EmailLink>
        ) : null}
        <Text
          className={classNames.text}
          style={{
            ...textStyle,
            fontFamily: fonts.heading,
            fontSize: 20,
            fontWeight: 700,
            lineHeight: '28px',
            margin: 0,
          }}
        >
          <EmailLink
            className={classNames.text}
            href={brand.websiteUrl}
            style={{ color: colors.text, textDecoration: 'none' }}
          >
            {brand.name}
          </EmailLink>
        </Text>
        {notice === undefined ? (
          <Text className={classNames.muted} style={{ ...mutedStyle, marginTop: spacing.xs }}>
            {`Issue #${issue.number} · ${formatEmailDate(issue.date, brand.language)}`}
          </Text>
        ) : null}
      </Panel>
    </>
  );
}

/** Why the reader gets this, how to leave or change it, and the sender's postal address (CAN-SPAM). */
function PageFooter({ brand, recipient, notice }: Omit<LayoutProps, 'children' | 'issue'>) {
  const mutedLinkStyle = { ...linkStyle, color: colors.muted };
  if (notice !== undefined) {
    return (
      <Panel tone="canvas" paddingY={spacing.xl} align="center">
        <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.md }}>
          {notice}
        </Text>
        <Text className={classNames.muted} style={mutedStyle}>
          {renderAddress(brand.postalAddress)}
        </Text>
      </Panel>
    );
  }
  return (
    <Panel tone="canvas" paddingY={spacing.xl} align="center">
      <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.md }} {...emailOnly}>
        {`You are receiving this email because ${recipient.email} subscribed to `}
        <EmailLink className={classNames.link} href={brand.websiteUrl} style={mutedLinkStyle}>
          {brand.name}
        </EmailLink>
        .
      </Text>
      <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.md }} {...emailOnly}>
        <EmailLink className={classNames.link} href={recipient.unsubscribeUrl} style={mutedLinkStyle}>
          Unsubscribe
        </EmailLink>
        {' · '}
        <EmailLink className={classNames.link} href={recipient.preferencesUrl} style={mutedLinkStyle}>
          Manage preferences
        </EmailLink>
        {' · '}
        <EmailLink className={classNames.link} href={recipient.webVersionUrl} style={mutedLinkStyle}>
          View in browser
        </EmailLink>
      </Text>
      <Text className={classNames.muted} style={mutedStyle}>
        {renderAddress(brand.postalAddress)}
      </Text>
    </Panel>
  );
}

/**
 * The column: fluid up to 600px everywhere, and exactly 600px in Outlook on Windows, which ignores max-width. Outlook
 * reads the "ghost" table inside the `[if mso]` comments; every other client sees only comments. React cannot write
 * comments, so the column is rendered to markup here and placed with the comments around it.
 */
function renderColumn(column: ReactNode): string {
  const ghostOpen = `<!--[if mso]><table role="presentation" align="center" width="${layout.maxWidth}" cellpadding="0" cellspacing="0" border="0" style="width:${layout.maxWidth}px"><tr><td><![endif]-->`;
  const ghostClose = '<!--[if mso]></td></tr></table><![endif]-->';
  return `${ghostOpen}${renderToStaticMarkup(column)}${ghostClose}`;
}

export function Layout({ brand, issue, recipient, children, notice }: LayoutProps) {
  const canvasStyle: CSSProperties = { backgroundColor: colors.canvas, color: colors.text, margin: 0, padding: 0 };
  const column = (
    <Container className={classNames.container} style={{ maxWidth: layout.maxWidth, width: '100%', margin: '0 auto' }}>
      <PageHeader brand={brand} issue={issue} recipient={recipient} notice={notice} />
      {children}
      <PageFooter brand={brand} recipient={recipient} notice={notice} />
    </Container>
  );
  return (
    <Html lang={brand.language} dir="ltr">
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <title>{issue.subject}</title>
        <style>{css}</style>
      </Head>
      <body className={classNames.canvas} style={canvasStyle}>
        <Preview>{issue.preheader}</Preview>
        {/* A full-width table carries the canvas color where clients drop the body's style. */}
        <table role="presentation" width="100%" cellPadding={0} cellSpacing={0} border={0} style={{ width: '100%' }}>
          <tbody>
            <tr>
              <td className={classNames.canvas} style={canvasStyle} dangerouslySetInnerHTML={{ __html: renderColumn(column) }} />
            </tr>
          </tbody>
        </table>
      </body>
    </Html>
  );
}

/**
 * A call-to-action link styled as a button. Outlook on Windows ignores padding on links, so, as React Email's `Button`
 * does, invisible MSO-only spacers of the padding's width stand in for it there. Unlike that `Button` it sets no
 * `target` (Gmail does not support it) and no style we do not ask for.
 */

import type { CSSProperties, ReactNode } from 'react';
import { classNames, colors, fonts, layout } from '../theme.ts';

export interface CtaButtonProps {
  readonly href: string;
  /** The visible label; it is also what a screen reader announces, so it must say where the link goes. */
  readonly children: ReactNode;
}

const PADDING_Y = 12;
const PADDING_X = 20;

/** Points Outlook raises the text by to center it in the padded box (px → pt). */
const TEXT_RAISE_PT = ((PADDING_Y * 2) * 3) / 4;

/**
 * An MSO-only run of hair spaces about `px` wide: `count` spaces at `mso-font-width` (at most 500%), the way React
 * Email's Button computes it.
 */
function msoSpacer(px: number, raise: boolean, trailing: boolean): string {
  let count = 1;
  while (px / count / 2 > 5) count += 1;
  const fontWidth = Math.round((px / count / 2) * 100);
  const style = `mso-font-width:${fontWidth}%${raise ? `;mso-text-raise:${TEXT_RAISE_PT}` : ''}`;
  return `<!--[if mso]><i style="${style}" hidden>${'&#8202;'.repeat(count)}${trailing ? '&#8203;' : ''}</i><![endif]-->`;
}

/** Outlook-only properties, which React's CSS types do not know; React writes them as `mso-padding-alt` etc. */
type MsoStyle = CSSProperties & { readonly msoPaddingAlt?: string; readonly msoTextRaise?: string };

const LEADING_SPACER = msoSpacer(PADDING_X, true, false);
const TRAILING_SPACER = msoSpacer(PADDING_X, false, true);

const linkStyle: MsoStyle = {
  display: 'inline-block',
  maxWidth: '100%',
  backgroundColor: colors.buttonBackground,
  color: colors.buttonText,
  fontFamily: fonts.body,
  fontSize: 16,
  fontWeight: 600,
  lineHeight: '100%',
  textDecoration: 'none',
  borderRadius: layout.borderRadius,
  padding: `${PADDING_Y}px ${PADDING_X}px`,
  // A border in the button color keeps its edge visible when a client inverts the background.
  border: `1px solid ${colors.buttonBackground}`,
  msoPaddingAlt: '0px',
};

const labelStyle: MsoStyle = {
  maxWidth: '100%',
  display: 'inline-block',
  lineHeight: '120%',
  msoPaddingAlt: '0px',
  msoTextRaise: `${(PADDING_Y * 3) / 4}pt`,
};

export function CtaButton({ href, children }: CtaButtonProps) {
  return (
    <a href={href} className={classNames.button} style={linkStyle}>
      <span dangerouslySetInnerHTML={{ __html: LEADING_SPACER }} />
      <span style={labelStyle}>{children}</span>
      <span dangerouslySetInnerHTML={{ __html: TRAILING_SPACER }} />
    </a>
  );
}

/** A call-to-action link styled as a button; React Email's `Button` already pads it for Outlook with MSO-only spacers. */

import { Button as EmailButton } from '@react-email/components';
import type { ReactNode } from 'react';
import { classNames, colors, fonts, layout } from '../theme.ts';

export interface CtaButtonProps {
  readonly href: string;
  readonly children: ReactNode;
}

export function CtaButton({ href, children }: CtaButtonProps) {
  return (
    <EmailButton
      href={href}
      className={classNames.button}
      style={{
        backgroundColor: colors.buttonBackground,
        color: colors.buttonText,
        fontFamily: fonts.body,
        fontSize: 16,
        fontWeight: 600,
        lineHeight: '100%',
        textDecoration: 'none',
        borderRadius: layout.borderRadius,
        padding: '12px 20px',
        // A border in the button color keeps its edge visible when a client inverts the background.
        border: `1px solid ${colors.buttonBackground}`,
      }}
    >
      {children}
    </EmailButton>
  );
}

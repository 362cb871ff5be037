/**
 * Plain email elements in place of React Email's `Link` and `Img`, whose defaults add what email clients do not
 * support (`target="_blank"`, which Gmail does not support; `text-decoration-line`; `outline`) or what we never want
 * (`Link`'s own blue on every link). And the marker of email-only sections, which the web copy of an issue leaves out.
 */

import type { AnchorHTMLAttributes, CSSProperties, ImgHTMLAttributes, ReactNode } from 'react';

/**
 * The attribute that marks an element as part of the email only: "View in browser", the greeting, the subscription
 * footer. `toWebCopy` (src/rendering/web-copy.ts) removes such elements from the archive's web copy of an issue.
 */
export const EMAIL_ONLY_ATTRIBUTE = 'data-email-only';

/** Spread on an element to mark it email-only (see EMAIL_ONLY_ATTRIBUTE). */
export const emailOnly = { [EMAIL_ONLY_ATTRIBUTE]: 'true' } as const;

export interface EmailLinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'target'> {
  readonly href: string;
  readonly children: ReactNode;
  readonly 'data-skip-in-text'?: 'true';
}

/** A link as email clients want it: no `target` (links open in the reader's browser anyway), only the styles given. */
export function EmailLink({ children, ...props }: EmailLinkProps) {
  return <a {...props}>{children}</a>;
}

export interface EmailImageProps extends ImgHTMLAttributes<HTMLImageElement> {
  readonly src: string;
  /** Required: '' marks a decorative image, anything else is read out. */
  readonly alt: string;
  readonly 'data-skip-in-text'?: 'true';
}

/** An image with the usual email resets (block, no border) and nothing else; attributes in React Email's `Img` order. */
export function EmailImage({ alt, src, width, height, style, ...props }: EmailImageProps) {
  const reset: CSSProperties = { display: 'block', border: 0, textDecoration: 'none' };
  return <img {...props} alt={alt} height={height} src={src} style={{ ...reset, ...style }} width={width} />;
}

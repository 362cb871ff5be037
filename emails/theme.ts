/** Mailroom's email design tokens: colors (light and dark), fonts, sizes and spacing shared by every template. */

/** Light palette: what every client shows unless it supports `prefers-color-scheme: dark`. */
export const colors = {
  /** Page around the 600px column. */
  canvas: '#eef0f3',
  /** Sections inside the column (cards, header, body). */
  surface: '#ffffff',
  text: '#1c2430',
  muted: '#4f5b69',
  link: '#0b57b5',
  buttonBackground: '#0b57b5',
  buttonText: '#ffffff',
  border: '#d5dbe2',
  quoteBorder: '#9aa6b4',
  codeBackground: '#eef1f5',
  codeText: '#1c2430',
} as const;

/** Dark palette, applied by the `<style>` block in clients that honor `prefers-color-scheme: dark`. */
export const darkColors = {
  canvas: '#0f1216',
  surface: '#1a1f26',
  text: '#e8ebef',
  muted: '#aab4c0',
  link: '#8cc2ff',
  buttonBackground: '#8cc2ff',
  buttonText: '#0f1216',
  border: '#39424d',
  quoteBorder: '#5d6976',
  codeBackground: '#262d36',
  codeText: '#e8ebef',
} as const;

export const fonts = {
  body: "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
  heading: "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
  mono: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
} as const;

/** Font sizes in px. Body text stays at 16px so iOS does not zoom it. */
export const fontSizes = {
  small: 13,
  body: 16,
  lead: 18,
  h1: 26,
  h2: 22,
  h3: 19,
  h4: 17,
  h5: 16,
  h6: 15,
} as const;

export const lineHeights = {
  body: '26px',
  heading: '1.3',
  small: '20px',
} as const;

/** Spacing scale in px. */
export const spacing = {
  xs: 4,
  sm: 8,
  md: 16,
  lg: 24,
  xl: 32,
} as const;

export const layout = {
  /** Widest the column gets, in px. */
  maxWidth: 600,
  /** Narrowest screen the layout is designed for, in px. */
  minWidth: 320,
  /** Horizontal padding inside the column on wide screens, in px. */
  gutter: 24,
  /** Horizontal padding on narrow screens (applied by the mobile media query), in px. */
  gutterNarrow: 16,
  /** Width of full-bleed content images inside the gutter: maxWidth - 2 * gutter. */
  contentWidth: 552,
  borderRadius: 6,
} as const;

/** Class names the layout's `<style>` block targets for dark mode and narrow screens. */
export const classNames = {
  canvas: 'mr-canvas',
  container: 'mr-container',
  surface: 'mr-surface',
  text: 'mr-text',
  muted: 'mr-muted',
  link: 'mr-link',
  button: 'mr-button',
  border: 'mr-border',
  code: 'mr-code',
  gutter: 'mr-gutter',
  title: 'mr-title',
} as const;

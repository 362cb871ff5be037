/** HTML for Mailroom's pages: escaping, an `html` tagged template that escapes by default, and the shared page shell. */

/** A piece of HTML that is safe to insert as-is: built by `html` or explicitly trusted with `raw`. */
class SafeHtml {
  readonly value: string;

  constructor(value: string) {
    this.value = value;
  }

  toString(): string {
    return this.value;
  }
}

export type { SafeHtml };

/** What may be interpolated into `html`: text (escaped), trusted HTML (kept), nothing, or a list of those. */
export type HtmlValue = string | number | SafeHtml | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Trust a string as HTML. Only for markup Mailroom built itself, never for user or message content. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function renderValue(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (typeof value === 'number') return escapeHtml(String(value));
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(renderValue).join('');
}

/** Tagged template: html`<p>${name}</p>` escapes every interpolation except SafeHtml (from `html` or `raw`). Arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) {
    out += renderValue(values[i] ?? null) + (strings[i + 1] ?? '');
  }
  return new SafeHtml(out);
}

export interface PageOptions {
  /** Shown in the tab, after "· Mailroom" is appended. */
  readonly title: string;
  readonly body: SafeHtml;
  /** Extra elements for <head> (e.g. a <meta name="robots">, a page-specific <style>). */
  readonly head?: SafeHtml;
  /** The current path, to mark the matching top-bar link (e.g. "/inbox"). */
  readonly currentPath?: string;
  /** Public pages (sign-up, preferences, archive): the publication's name and links instead of "Mailroom", Home and Inbox. */
  readonly site?: { readonly name: string; readonly href: string; readonly links: readonly { readonly href: string; readonly label: string }[] };
}

/** The operator's top bar: Home and the built-in inbox (servers without the inbox leave that link out). */
export const OPERATOR_LINKS: readonly { readonly href: string; readonly label: string }[] = [
  { href: '/', label: 'Home' },
  { href: '/inbox', label: 'Inbox' },
];

const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --surface: #ffffff; --text: #1c2024; --muted: #60646c; --border: #dfe3e8;
  --accent: #2b5fd9; --accent-text: #ffffff; --danger: #c62a2f; --code-bg: #f0f2f5; --row-hover: #f3f6fd;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111315; --surface: #1a1d21; --text: #e6e8eb; --muted: #9ba1a9; --border: #2e333a;
    --accent: #7aa2ff; --accent-text: #0b1020; --danger: #ff6b6f; --code-bg: #23272d; --row-hover: #20252c;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.topbar { background: var(--surface); border-bottom: 1px solid var(--border); }
.topbar-inner { max-width: 960px; margin: 0 auto; padding: 0 16px; height: 52px; display: flex; align-items: center; gap: 24px; }
.brand { font-weight: 700; font-size: 17px; color: var(--text); letter-spacing: -0.01em; }
.brand:hover { text-decoration: none; }
.topbar nav { display: flex; gap: 4px; }
.topbar nav a { color: var(--muted); padding: 6px 10px; border-radius: 6px; }
.topbar nav a:hover { color: var(--text); background: var(--code-bg); text-decoration: none; }
.topbar nav a[aria-current="page"] { color: var(--text); background: var(--code-bg); font-weight: 600; }
main { max-width: 960px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 24px; line-height: 1.25; margin: 0 0 16px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 24px 0 12px; }
p { margin: 0 0 12px; }
.muted { color: var(--muted); }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: 10px; padding: 16px 20px; }
.card > :last-child { margin-bottom: 0; }
code, pre, kbd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; }
code, kbd { background: var(--code-bg); padding: 2px 6px; border-radius: 4px; }
pre { background: var(--code-bg); padding: 12px 14px; border-radius: 8px; overflow: auto; white-space: pre-wrap; word-break: break-word; margin: 0; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
.button, button {
  display: inline-block; font: inherit; font-size: 14px; line-height: 1; padding: 9px 14px; border-radius: 7px; cursor: pointer;
  border: 1px solid var(--border); background: var(--surface); color: var(--text);
}
.button:hover, button:hover { text-decoration: none; border-color: var(--muted); }
.button.primary, button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
.button.danger, button.danger { color: var(--danger); }
input[type="search"], input[type="text"], input[type="email"] {
  font: inherit; padding: 8px 10px; border-radius: 7px; border: 1px solid var(--border); background: var(--surface); color: var(--text); min-width: 0;
}
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 600px) {
  .topbar-inner { gap: 12px; }
  main { padding: 16px 12px 32px; }
  h1 { font-size: 20px; }
}
`;

/** The page shell every Mailroom page uses: a top bar ("Mailroom", Home, Inbox) and a centered main column. */
export function renderPage(options: PageOptions): string {
  const nav = (options.site?.links ?? OPERATOR_LINKS).map((link) => {
    const current = options.currentPath !== undefined && isCurrent(link.href, options.currentPath);
    return html`<a href="${link.href}"${current ? raw(' aria-current="page"') : ''}>${link.label}</a>`;
  });
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${options.title} · ${options.site?.name ?? 'Mailroom'}</title>
<style>${raw(PAGE_CSS)}</style>
${options.head}
</head>
<body>
<header class="topbar"><div class="topbar-inner"><a class="brand" href="${options.site?.href ?? '/'}">${options.site?.name ?? 'Mailroom'}</a><nav aria-label="Main">${nav}</nav></div></header>
<main>
${options.body}
</main>
</body>
</html>
`;
  return page.value;
}

function isCurrent(href: string, currentPath: string): boolean {
  if (href === '/') return currentPath === '/';
  return currentPath === href || currentPath.startsWith(`${href}/`);
}

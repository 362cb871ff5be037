/** Turns an article's Markdown into email-safe React Email markup by walking marked's tokens; raw HTML is never injected. */

import { Heading, Hr, Text } from '@react-email/components';
import { EmailImage, EmailLink } from './elements.tsx';
import { Lexer } from 'marked';
import { decodeEntities as decodeMarkdownEntities } from '../../src/core/html-entities.ts';
import type { Token, Tokens } from 'marked';
import type { CSSProperties, ReactNode } from 'react';
import { linkStyle, textStyle } from './layout.tsx';
import { classNames, colors, fontSizes, fonts, layout, lineHeights, spacing } from '../theme.ts';

export interface MarkdownProps {
  readonly markdown: string;
  /** Absolute URL that relative links and images are resolved against (usually the article's URL). */
  readonly baseUrl?: string | undefined;
}

interface Context {
  readonly baseUrl: string | undefined;
  /** Paragraph color: body text, or muted inside a blockquote. */
  readonly tone: 'text' | 'muted';
  /** Inside a list item: tighter paragraph spacing. */
  readonly inListItem: boolean;
}

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_PROTOCOLS = new Set(['http:', 'https:']);

const headingSizes: Readonly<Record<number, number>> = {
  1: fontSizes.h1,
  2: fontSizes.h2,
  3: fontSizes.h3,
  4: fontSizes.h4,
  5: fontSizes.h5,
  6: fontSizes.h6,
};

const headingTags = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const;

/** Decode character references in Markdown text, as CommonMark does (Mailroom's one decoder, `src/core/html-entities.ts`). */
export function decodeEntities(text: string): string {
  return decodeMarkdownEntities(text, 'markdown');
}

/** Resolve `href` against `baseUrl` and return it only when its scheme is allowed; otherwise null (render as text). */
export function resolveSafeUrl(
  href: string,
  baseUrl: string | undefined,
  protocols: ReadonlySet<string>,
): string | null {
  const trimmed = href.trim();
  if (trimmed === '') return null;
  let url: URL;
  try {
    url = baseUrl === undefined || baseUrl === '' ? new URL(trimmed) : new URL(trimmed, baseUrl);
  } catch {
    return null;
  }
  return protocols.has(url.protocol) ? url.href : null;
}

/** Words in a Markdown text, roughly (markup characters alone are not counted). */
export function countWords(markdown: string): number {
  return markdown.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/**
 * The leading top-level blocks of `markdown` that fit in `maxWords` words (at least one block), cut at a block boundary
 * so no list, quote or code block is left open. Link reference definitions are kept so references still resolve.
 */
export function excerptMarkdown(markdown: string, maxWords: number): string {
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  const kept: string[] = [];
  const definitions: string[] = [];
  let words = 0;
  let full = false;
  for (const token of tokens) {
    if (token.type === 'def') {
      definitions.push(token.raw.trim());
      continue;
    }
    if (full || token.type === 'space') continue;
    const blockWords = countWords(token.raw);
    if (kept.length > 0 && words + blockWords > maxWords) {
      full = true;
      continue;
    }
    kept.push(token.raw.trim());
    words += blockWords;
  }
  return [...kept, ...definitions].join('\n\n');
}

function paragraphStyle(context: Context): CSSProperties {
  return {
    ...textStyle,
    color: context.tone === 'muted' ? colors.muted : colors.text,
    margin: context.inListItem ? `0 0 ${spacing.sm}px` : textStyle.margin,
  };
}

const codeSpanStyle: CSSProperties = {
  backgroundColor: colors.codeBackground,
  color: colors.codeText,
  fontFamily: fonts.mono,
  fontSize: '0.9em',
  padding: '1px 4px',
  borderRadius: 3,
};

/** Raw HTML reduced to its visible text: comments and script-like elements dropped, tags stripped, entities decoded. */
function stripHtml(html: string): string {
  const withoutHidden = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(
      /<(script|style|noscript|template|iframe|object|embed|svg|math|textarea|title|head)\b[\s\S]*?(?:<\/\1\s*>|$)/gi,
      ' ',
    )
    .replace(/<\/?[a-zA-Z!?][^>]*>?/g, ' ');
  return decodeEntities(withoutHidden).replace(/\s+/g, ' ').trim();
}

function tokenText(token: Token): string {
  return 'text' in token && typeof token.text === 'string' ? token.text : '';
}

const HIDDEN_INLINE_ELEMENTS = /^<(script|style|noscript|template|iframe|object|embed|svg|math|textarea)\b/i;

function renderImage(token: Tokens.Image, key: string, context: Context): ReactNode {
  const alt = decodeEntities(token.text ?? '');
  const src = resolveSafeUrl(decodeEntities(token.href), context.baseUrl, IMAGE_PROTOCOLS);
  if (src === null) return alt;
  return (
    <EmailImage
      key={key}
      src={src}
      alt={alt}
      title={token.title ? decodeEntities(token.title) : undefined}
      width={layout.contentWidth}
      style={{ width: '100%', maxWidth: '100%', height: 'auto', margin: `${spacing.sm}px 0` }}
    />
  );
}

/** Append to `nodes`, flattening arrays and merging adjacent strings (so React emits no `<!-- -->` between them). */
function pushNode(nodes: ReactNode[], node: ReactNode): void {
  if (Array.isArray(node)) {
    for (const child of node as ReactNode[]) pushNode(nodes, child);
    return;
  }
  if (node === null || node === undefined || node === false || node === '') return;
  const last = nodes[nodes.length - 1];
  if (typeof node === 'string' && typeof last === 'string') nodes[nodes.length - 1] = last + node;
  else nodes.push(node);
}

function checkboxText(token: Tokens.Checkbox): string {
  return token.checked ? '☑ ' : '☐ ';
}

function renderInlines(tokens: readonly Token[] | undefined, context: Context, keyPrefix: string): ReactNode[] {
  if (tokens === undefined) return [];
  const nodes: ReactNode[] = [];
  /** Name of a script-like element opened by inline raw HTML whose content is being dropped. */
  let hiddenElement: string | null = null;
  tokens.forEach((token, index) => {
    const key = `${keyPrefix}-${index}`;
    if (hiddenElement !== null) {
      if (token.type === 'html' && new RegExp(`^</${hiddenElement}\\s*>`, 'i').test(token.text)) hiddenElement = null;
      return;
    }
    switch (token.type) {
      case 'text':
        pushNode(
          nodes,
          token.tokens !== undefined && token.tokens.length > 0
            ? renderInlines(token.tokens, context, key)
            : decodeEntities(token.text),
        );
        return;
      case 'escape':
        pushNode(nodes, token.text);
        return;
      case 'strong':
        pushNode(nodes, <strong key={key}>{renderInlines(token.tokens, context, key)}</strong>);
        return;
      case 'em':
        pushNode(nodes, <em key={key}>{renderInlines(token.tokens, context, key)}</em>);
        return;
      case 'del':
        pushNode(nodes, <del key={key}>{renderInlines(token.tokens, context, key)}</del>);
        return;
      case 'codespan':
        pushNode(
          nodes,
          <code key={key} className={classNames.code} style={codeSpanStyle}>
            {token.text}
          </code>,
        );
        return;
      case 'br':
        pushNode(nodes, <br key={key} />);
        return;
      case 'link': {
        const link = token as Tokens.Link;
        const rawHref = link.autolink === true ? link.href : decodeEntities(link.href);
        const href = resolveSafeUrl(rawHref, context.baseUrl, LINK_PROTOCOLS);
        const children = renderInlines(link.tokens, context, key);
        // A link whose URL is not absolute http(s)/mailto (javascript:, data:, relative without a base…) is plain text.
        pushNode(
          nodes,
          href === null ? (
            children
          ) : (
            <EmailLink
              key={key}
              href={href}
              title={link.title ? decodeEntities(link.title) : undefined}
              className={classNames.link}
              style={linkStyle}
            >
              {children}
            </EmailLink>
          ),
        );
        return;
      }
      case 'image':
        pushNode(nodes, renderImage(token as Tokens.Image, key, context));
        return;
      case 'checkbox':
        pushNode(nodes, checkboxText(token as Tokens.Checkbox));
        return;
      case 'html': {
        // Raw inline HTML is never injected: a <br> becomes a line break, script-like elements vanish with their
        // content, and any other tag is dropped while the text around it stays.
        const html = String(token.text);
        const hidden = HIDDEN_INLINE_ELEMENTS.exec(html);
        if (hidden !== null && !new RegExp(`</${hidden[1]}\\s*>\\s*$`, 'i').test(html)) {
          hiddenElement = hidden[1] ?? null;
        } else if (/^<br\s*\/?>$/i.test(html.trim())) {
          pushNode(nodes, <br key={key} />);
        }
        return;
      }
      default:
        pushNode(nodes, decodeEntities(tokenText(token)));
    }
  });
  return nodes;
}

function renderListItem(item: Tokens.ListItem, context: Context, key: string): ReactNode {
  const itemContext: Context = { ...context, inListItem: true };
  const children: ReactNode[] = [];
  item.tokens.forEach((child, index) => {
    const childKey = `${key}-${index}`;
    // A tight list item holds bare text blocks: render them inline, not as paragraphs.
    if (child.type === 'text') pushNode(children, renderInlines(child.tokens ?? [child], itemContext, childKey));
    else if (child.type === 'checkbox') pushNode(children, checkboxText(child as Tokens.Checkbox));
    else pushNode(children, renderBlock(child, itemContext, childKey));
  });
  return (
    <li
      key={key}
      className={context.tone === 'muted' ? classNames.muted : classNames.text}
      style={{ ...paragraphStyle(itemContext), margin: `0 0 ${spacing.sm}px` }}
    >
      {children}
    </li>
  );
}

function renderTable(table: Tokens.Table, context: Context, key: string): ReactNode {
  const cellStyle = (align: Tokens.TableCell['align'], header: boolean): CSSProperties => ({
    border: `1px solid ${colors.border}`,
    padding: `${spacing.xs}px ${spacing.sm}px`,
    textAlign: align ?? 'left',
    verticalAlign: 'top',
    fontWeight: header ? 700 : 400,
    color: colors.text,
    fontFamily: fonts.body,
    fontSize: 14,
    lineHeight: lineHeights.small,
  });
  return (
    <table
      key={key}
      width="100%"
      cellPadding={0}
      cellSpacing={0}
      data-text-format="dataTable"
      style={{ width: '100%', borderCollapse: 'collapse', margin: `0 0 ${spacing.md}px` }}
    >
      <thead>
        <tr>
          {table.header.map((cell, index) => (
            <th
              key={index}
              scope="col"
              className={`${classNames.text} ${classNames.border}`}
              style={cellStyle(cell.align, true)}
            >
              {renderInlines(cell.tokens, context, `${key}-h${index}`)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.rows.map((row, rowIndex) => (
          <tr key={rowIndex}>
            {row.map((cell, index) => (
              <td
                key={index}
                className={`${classNames.text} ${classNames.border}`}
                style={cellStyle(cell.align, false)}
              >
                {renderInlines(cell.tokens, context, `${key}-${rowIndex}-${index}`)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function renderBlock(token: Token, context: Context, key: string): ReactNode {
  switch (token.type) {
    case 'space':
    case 'def':
      return null;
    case 'heading': {
      const depth = Math.min(Math.max(token.depth as number, 1), 6);
      const size = headingSizes[depth] ?? fontSizes.h3;
      return (
        <Heading
          key={key}
          as={headingTags[depth - 1] ?? 'h3'}
          className={classNames.text}
          style={{
            color: colors.text,
            fontFamily: fonts.heading,
            fontSize: size,
            lineHeight: lineHeights.heading,
            fontWeight: 700,
            margin: `${depth <= 2 ? spacing.lg : spacing.md}px 0 ${spacing.sm}px`,
          }}
        >
          {renderInlines(token.tokens, context, key)}
        </Heading>
      );
    }
    case 'paragraph':
      return (
        <Text
          key={key}
          className={context.tone === 'muted' ? classNames.muted : classNames.text}
          style={paragraphStyle(context)}
        >
          {renderInlines(token.tokens, context, key)}
        </Text>
      );
    case 'text':
      return (
        <Text
          key={key}
          className={context.tone === 'muted' ? classNames.muted : classNames.text}
          style={paragraphStyle(context)}
        >
          {renderInlines(token.tokens ?? [token], context, key)}
        </Text>
      );
    case 'list': {
      const list = token as Tokens.List;
      const listStyle: CSSProperties = {
        margin: context.inListItem ? `${spacing.sm}px 0 0` : `0 0 ${spacing.md}px`,
        padding: `0 0 0 ${spacing.lg}px`,
        color: context.tone === 'muted' ? colors.muted : colors.text,
      };
      const items = list.items.map((item, index) => renderListItem(item, context, `${key}-${index}`));
      if (list.ordered) {
        const start = typeof list.start === 'number' && list.start !== 1 ? list.start : undefined;
        return (
          <ol key={key} start={start} style={listStyle}>
            {items}
          </ol>
        );
      }
      return (
        <ul key={key} style={listStyle}>
          {items}
        </ul>
      );
    }
    case 'blockquote':
      return (
        <blockquote
          key={key}
          className={classNames.border}
          style={{
            margin: `0 0 ${spacing.md}px`,
            padding: `${spacing.xs}px 0 ${spacing.xs}px ${spacing.md}px`,
            borderLeft: `4px solid ${colors.quoteBorder}`,
            color: colors.muted,
            fontStyle: 'italic',
          }}
        >
          {(token.tokens ?? []).map((child, index) =>
            renderBlock(child, { ...context, tone: 'muted' }, `${key}-${index}`),
          )}
        </blockquote>
      );
    case 'code':
      return (
        <pre
          key={key}
          className={classNames.code}
          style={{
            backgroundColor: colors.codeBackground,
            color: colors.codeText,
            fontFamily: fonts.mono,
            fontSize: 14,
            lineHeight: '20px',
            padding: `${spacing.md - 4}px ${spacing.md}px`,
            margin: `0 0 ${spacing.md}px`,
            borderRadius: 4,
            whiteSpace: 'pre-wrap',
            wordBreak: 'break-word',
          }}
        >
          <code>{String(token.text)}</code>
        </pre>
      );
    case 'hr':
      return (
        <Hr
          key={key}
          className={classNames.border}
          style={{ border: 'none', borderTop: `1px solid ${colors.border}`, margin: `${spacing.lg}px 0` }}
        />
      );
    case 'html': {
      // Raw block HTML is reduced to its visible text, shown as an ordinary paragraph (or dropped when empty).
      const text = stripHtml(String(token.text));
      return text === '' ? null : (
        <Text key={key} className={classNames.text} style={paragraphStyle(context)}>
          {text}
        </Text>
      );
    }
    case 'table':
      return renderTable(token as Tokens.Table, context, key);
    default: {
      // Tokens of extensions this walker does not know: their text, as text.
      const text = tokenText(token);
      return text === '' ? null : (
        <Text key={key} className={classNames.text} style={paragraphStyle(context)}>
          {decodeEntities(text)}
        </Text>
      );
    }
  }
}

export function Markdown({ markdown, baseUrl }: MarkdownProps) {
  const tokens = new Lexer({ gfm: true, breaks: false }).lex(markdown);
  const context: Context = { baseUrl, tone: 'text', inListItem: false };
  return <>{tokens.map((token, index) => renderBlock(token, context, `md-${index}`))}</>;
}

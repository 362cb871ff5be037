/**
 * Handlebars source made of two kinds of parts: the operator's own template text, kept as written, and content
 * (titles, names, summaries, whatever a template renders), which always prints as itself. Content is data, never
 * template: every string that goes into an issue's subject, preheader, HTML or text part goes through here. Pure.
 */
import Handlebars from 'handlebars';
import { MailroomError, quote } from '../core/errors.ts';

declare const templateSourceBrand: unique symbol;

/** Handlebars source in which only the operator's own text can be a tag: made by `templateSource` and friends only. */
export type TemplateSource = string & { readonly [templateSourceBrand]: true };

export type SourcePart = { readonly source: string } | { readonly literal: string };

/**
 * An empty comment whose `~` strips the one space put before it: the seam where content meets other text in a way
 * Handlebars' lexer would read across. Without it a content `{` before a tag would open a triple-stash, a backslash
 * before `{{` would make Handlebars treat the `{{` as escaped (or an escaped `\{{` as a live tag), and a content `}`
 * right after a tag's `}}` would be read as part of its closing braces (a parse error: one title could stop a send).
 */
const SEAM = ' {{~!}}';

const needsSeam = (left: string, right: string): boolean => (/[\\{]$/.test(left) && /^[\\{]/.test(right)) || (left.endsWith('}') && right.startsWith('}'));

/**
 * `text` as Handlebars source that prints exactly `text`: every `{{` escaped as `\{{`, with a seam after backslashes.
 * NUL, which Handlebars' lexer cannot read at all, becomes U+FFFD (the replacement character).
 */
function escapeLiteral(raw: string): string {
  const text = raw.replaceAll('\0', '\uFFFD');
  let out = '';
  let from = 0;
  for (let at = text.indexOf('{{'); at !== -1; at = text.indexOf('{{', from)) {
    out += text.slice(from, at);
    if (out.endsWith('\\')) out += SEAM;
    out += '\\{{';
    from = at + 2;
  }
  return out + text.slice(from);
}

/**
 * Joins the parts into one Handlebars source. Literal parts print as themselves whatever surrounds them; source parts
 * are the operator's (or a template's) own Handlebars and stay live.
 */
export function templateSource(parts: readonly SourcePart[]): TemplateSource {
  let out = '';
  let lastWasLiteral = false;
  for (const part of parts) {
    const literal = 'literal' in part;
    const chunk = literal ? escapeLiteral(part.literal) : part.source;
    if (chunk === '') continue;
    // Two pieces of the operator's own source join as the operator wrote them; a seam goes wherever content touches.
    if ((literal || lastWasLiteral) && needsSeam(out, chunk)) out += SEAM;
    out += chunk;
    lastWasLiteral = literal;
  }
  return out as TemplateSource;
}

/** Source that prints `text` exactly as it is. */
export function literalSource(text: string): TemplateSource {
  return templateSource([{ literal: text }]);
}

/** An issue's subject or preheader as the store gives it back: it was stored as the source that templateSource or fillPattern built. */
export function storedSource(source: string): TemplateSource {
  return source as TemplateSource;
}

/** Collects the text of every ContentStatement: what a template prints as written. */
class ContentCollector extends Handlebars.Visitor {
  text = '';
  override ContentStatement(content: hbs.AST.ContentStatement): void {
    this.text += `${content.value}\n`;
  }
}

/**
 * An operator's pattern with `{key}` tokens (`{title}`, `{name}`, `{number}`) filled with content. The pattern may
 * hold recipient placeholders (`{{firstName}}`); the values print as themselves (a title `{{email}}` shows
 * `{{email}}`). A token inside a Handlebars tag or comment is refused, since a value there could end the tag.
 * `where` names the pattern in errors (e.g. `newsletter "weekly": subject pattern`).
 */
export function fillPattern(pattern: string, values: Readonly<Record<string, string>>, where: string): TemplateSource {
  const keys = Object.keys(values);
  if (keys.length === 0) return templateSource([{ source: pattern }]);
  const token = new RegExp(`\\{(${keys.map((k) => k.replace(/[^A-Za-z0-9_]/g, '')).join('|')})\\}`, 'g');
  // Each token becomes a unique word, then the pattern is parsed: a word that is not in the printed text sits in a tag.
  const stamp = Math.random().toString(36).slice(2, 10);
  const found: { key: string; word: string }[] = [];
  const probe = pattern.replace(token, (_match, key: string) => {
    const word = `q${stamp}x${found.length}x${stamp}q`;
    found.push({ key, word });
    return word;
  });
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(probe);
  } catch (error) {
    throw new MailroomError('INVALID_INPUT', `${where} ${quote(pattern)}: not a valid template: ${(error as Error).message.split('\n')[0]}`, [], { cause: error });
  }
  const printed = new ContentCollector();
  printed.accept(program);
  for (const { key, word } of found) {
    if (!printed.text.includes(word)) {
      throw new MailroomError('INVALID_INPUT', `${where} ${quote(pattern)}: {${key}} is inside a {{…}} tag or comment; put it in the text`);
    }
  }
  const parts: SourcePart[] = [];
  let from = 0;
  for (const match of pattern.matchAll(token)) {
    parts.push({ source: pattern.slice(from, match.index) }, { literal: values[match[1] as string] ?? '' });
    from = match.index + match[0].length;
  }
  parts.push({ source: pattern.slice(from) });
  return templateSource(parts);
}

/**
 * Per-recipient personalization: an issue's subject, HTML and text are compiled ONCE with Handlebars
 * (strict, known helpers only, allow-listed variables) and filled per recipient from a small context.
 */
import Handlebars from 'handlebars';
import type { Attributes } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { ATTRIBUTE_PREFIX, RECIPIENT_VARIABLES, isRecipientVariable, type RecipientVariable } from './variables.ts';

type HbsNode = hbs.AST.Node;

/** Block helpers a template may use. Everything else (each, with, lookup, log, custom helpers) is refused. */
const ALLOWED_BLOCK_HELPERS = new Set(['if', 'unless']);

export interface IssueTemplates {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface RecipientContext {
  readonly firstName: string;
  readonly lastName: string;
  readonly fullName: string;
  readonly email: string;
  readonly unsubscribeUrl: string;
  readonly preferencesUrl: string;
  readonly webVersionUrl: string;
  readonly attributes: Attributes;
  /** The recipient's signed tracking token, only where per-subscriber tracking is on (src/tracking/tracking.ts). */
  readonly trackingToken?: string;
}

/** Not for the operator's templates: `{{trackingToken}}` is allowed only in an issue compiled for per-subscriber tracking. */
const TRACKING_TOKEN_VARIABLE = 'trackingToken';

export interface IssueCompileOptions {
  /** Allow `{{trackingToken}}` (the tracked copy of a campaign's issue, src/tracking/campaign-tracking.ts). */
  readonly trackingToken?: boolean;
}

export interface PersonalizedParts {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/**
 * A part of the issue cut where it depends on the recipient: literal text (the same for everyone, so it can be
 * encoded once per campaign) or a function of the recipient's data. Joined, the pieces give exactly what
 * `personalize` gives for that part.
 */
export type TemplatePiece = string | ((data: RecipientData) => string);

/** What the templates are filled from: the context, with every attribute a template names present. */
export type RecipientData = RecipientContext;

export interface CompiledIssue {
  /** Attribute names the templates use (`{{attributes.company}}` → "company"). */
  readonly attributeNames: readonly string[];
  readonly variables: ReadonlySet<RecipientVariable>;
  personalize(context: RecipientContext): PersonalizedParts;
  /** The HTML and text parts as pieces (the subject is short: `personalize` it, or take `subject(data)`). */
  readonly pieces: { readonly html: readonly TemplatePiece[]; readonly text: readonly TemplatePiece[] };
  /** The data `pieces` are called with. */
  dataFor(context: RecipientContext): RecipientData;
  /** The subject for this data, stripped of line breaks. */
  subject(data: RecipientData): string;
  /** True when a part holds `{{trackingToken}}` (per-subscriber tracking): the context must carry the token. */
  readonly usesTrackingToken?: boolean;
}

function collectPaths(node: HbsNode, part: string, found: { variables: Set<RecipientVariable>; attributes: Set<string>; trackingToken?: boolean; usesTrackingToken?: boolean }): void {
  const visit = (n: HbsNode | undefined | null): void => {
    if (!n) return;
    switch (n.type) {
      case 'Program':
        for (const s of (n as hbs.AST.Program).body) visit(s);
        return;
      case 'MustacheStatement':
      case 'SubExpression': {
        const m = n as hbs.AST.MustacheStatement;
        if (m.params.length > 0 || (m.hash && m.hash.pairs.length > 0)) {
          const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : m.path.type;
          throw new MailroomError('PLACEHOLDER_NOT_ALLOWED', `${part}: helper ${quote(name)} is not allowed (only {{variable}}, {{#if}} and {{#unless}})`);
        }
        visit(m.path);
        return;
      }
      case 'BlockStatement': {
        const b = n as hbs.AST.BlockStatement;
        const helper = b.path.type === 'PathExpression' ? (b.path as hbs.AST.PathExpression).original : '';
        if (!ALLOWED_BLOCK_HELPERS.has(helper)) {
          throw new MailroomError('PLACEHOLDER_NOT_ALLOWED', `${part}: block {{#${helper}}} is not allowed (only {{#if}} and {{#unless}})`);
        }
        for (const p of b.params) visit(p);
        visit(b.program);
        visit(b.inverse);
        return;
      }
      case 'PathExpression': {
        const p = n as hbs.AST.PathExpression;
        if (p.data || p.depth > 0) {
          throw new MailroomError('PLACEHOLDER_NOT_ALLOWED', `${part}: placeholder {{${p.original}}} is not allowed`);
        }
        const [head, ...rest] = p.parts;
        if (head === ATTRIBUTE_PREFIX && rest.length === 1 && rest[0]) {
          found.attributes.add(rest[0]);
          return;
        }
        if (head !== undefined && rest.length === 0 && isRecipientVariable(head)) {
          found.variables.add(head);
          return;
        }
        if (head === TRACKING_TOKEN_VARIABLE && rest.length === 0 && found.trackingToken === true) {
          found.usesTrackingToken = true;
          return;
        }
        throw new MailroomError(
          'PLACEHOLDER_NOT_ALLOWED',
          `${part}: placeholder {{${p.original}}} is not an allowed variable (allowed: ${RECIPIENT_VARIABLES.join(', ')}, ${ATTRIBUTE_PREFIX}.<name>)`,
        );
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
      case 'DecoratorBlock':
      case 'Decorator':
        throw new MailroomError('PLACEHOLDER_NOT_ALLOWED', `${part}: partials and decorators are not allowed`);
      default:
        // ContentStatement, CommentStatement, literals: nothing to check.
        return;
    }
  };
  visit(node);
}

/** Strips CR and LF (and other control characters) so a value cannot start a new header. */
export function toHeaderValue(value: string): string {
  return value.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
}

const RUNTIME = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false } as const;

/**
 * `ignoreStandalone`: a block or comment alone on its line does not eat that line's whitespace, so whitespace that
 * content put next to one of the operator's tags prints as it is (Mailroom's templates have no standalone blocks).
 */
function compileOptions(noEscape: boolean): CompileOptions {
  return { strict: true, knownHelpersOnly: true, knownHelpers: { if: true, unless: true }, noEscape, preventIndent: true, ignoreStandalone: true };
}

function parsePart(source: string, part: string): hbs.AST.Program {
  try {
    return Handlebars.parse(source, { ignoreStandalone: true });
  } catch (error) {
    throw new MailroomError('TEMPLATE', `${part}: not a valid template: ${(error as Error).message.split('\n')[0]}`, [], { cause: error });
  }
}

function compilePart(source: string, part: string, noEscape: boolean, found: { variables: Set<RecipientVariable>; attributes: Set<string>; trackingToken?: boolean; usesTrackingToken?: boolean }): HandlebarsTemplateDelegate {
  collectPaths(parsePart(source, part), part, found);
  return Handlebars.compile(source, compileOptions(noEscape));
}

/**
 * `{{variable}}` or `{{attributes.name}}` (checked against the allow-list when compiled) read straight from the data:
 * what Handlebars prints for them, escaped the same way, without a template call per recipient. Every such value is a
 * string that exists in the data (dataFor fills missing attributes), so strict mode has nothing to refuse.
 */
function simpleLookup(statement: hbs.AST.Statement, noEscape: boolean): ((data: RecipientData) => string) | null {
  if (statement.type !== 'MustacheStatement') return null;
  const m = statement as hbs.AST.MustacheStatement;
  if (m.params.length > 0 || (m.hash && m.hash.pairs.length > 0) || m.path.type !== 'PathExpression') return null;
  const path = m.path as hbs.AST.PathExpression;
  if (path.data || path.depth > 0) return null;
  const escape = m.escaped && !noEscape;
  const [head, name] = path.parts;
  const read =
    path.parts.length === 1 && head === TRACKING_TOKEN_VARIABLE
      ? (data: RecipientData) => data.trackingToken as unknown
      : path.parts.length === 1 && head !== undefined && isRecipientVariable(head)
      ? (data: RecipientData) => data[head] as unknown
      : path.parts.length === 2 && head === ATTRIBUTE_PREFIX && name !== undefined
        ? (data: RecipientData) => (Object.hasOwn(data.attributes, name) ? data.attributes[name] : undefined)
        : null;
  if (!read) return null;
  return (data) => {
    const value = read(data);
    if (typeof value !== 'string') throw new MailroomError('TEMPLATE', `{{${path.original}}} has no value for this recipient`);
    return escape ? Handlebars.escapeExpression(value) : value;
  };
}

/**
 * Cuts a template at its top-level statements: Handlebars' output is the concatenation of theirs. Literal text is
 * taken as the parser left it (after its whitespace control, the same as a whole compile applies); every other
 * statement is compiled on its own.
 */
function piecesOf(source: string, part: string, noEscape: boolean): TemplatePiece[] {
  const ast = parsePart(source, part);
  const pieces: TemplatePiece[] = [];
  for (const statement of ast.body) {
    if (statement.type === 'CommentStatement') continue;
    if (statement.type === 'ContentStatement') {
      const value = (statement as hbs.AST.ContentStatement).value;
      const last = pieces[pieces.length - 1];
      if (typeof last === 'string') pieces[pieces.length - 1] = last + value;
      else if (value !== '') pieces.push(value);
      continue;
    }
    const simple = simpleLookup(statement, noEscape);
    if (simple) {
      pieces.push(simple);
      continue;
    }
    const program = { type: 'Program', body: [statement], strip: {}, blockParams: [], loc: statement.loc } as hbs.AST.Program;
    const template = Handlebars.compile(program, compileOptions(noEscape));
    pieces.push((data: RecipientData) => template(data, RUNTIME));
  }
  return pieces;
}

/** Compiles an issue's three parts once. Throws, naming the variable, before anything is sent. */
export function compileIssue(templates: IssueTemplates, options: IssueCompileOptions = {}): CompiledIssue {
  const found: { variables: Set<RecipientVariable>; attributes: Set<string>; trackingToken: boolean; usesTrackingToken?: boolean } = {
    variables: new Set<RecipientVariable>(),
    attributes: new Set<string>(),
    trackingToken: options.trackingToken === true,
  };
  const subject = compilePart(templates.subject, 'subject', true, found);
  const html = compilePart(templates.html, 'HTML part', false, found);
  const text = compilePart(templates.text, 'text part', true, found);
  const attributeNames = [...found.attributes].sort();
  const runtime = RUNTIME;
  const dataFor = (context: RecipientContext): RecipientData => {
    // Every attribute a template names exists (as '' when the subscriber lacks it), so strict mode never throws mid-campaign.
    const attributes: Record<string, string> = {};
    for (const name of attributeNames) attributes[name] = context.attributes[name] ?? '';
    return { ...context, attributes, ...(found.trackingToken ? { trackingToken: context.trackingToken ?? '' } : {}) };
  };
  let pieces: CompiledIssue['pieces'] | null = null;
  return {
    attributeNames,
    variables: found.variables,
    personalize(context: RecipientContext): PersonalizedParts {
      const data = dataFor(context);
      return {
        subject: toHeaderValue(subject(data, runtime)),
        html: html(data, runtime),
        text: text(data, runtime),
      };
    },
    get pieces() {
      pieces ??= { html: piecesOf(templates.html, 'HTML part', false), text: piecesOf(templates.text, 'text part', true) };
      return pieces;
    },
    dataFor,
    subject: (data: RecipientData) => toHeaderValue(subject(data, runtime)),
    usesTrackingToken: found.usesTrackingToken === true,
  };
}

/**
 * A stored subject or preheader as the operator reads it in listings: content as written (no escapes), each
 * placeholder shown as itself (`{{firstName}}`), blocks taken as if their condition held. The source itself when it
 * does not compile.
 */
export function showTemplate(source: string): string {
  try {
    const compiled = compileIssue({ subject: source, html: '', text: '' });
    const placeholders = Object.fromEntries(RECIPIENT_VARIABLES.map((name) => [name, `{{${name}}}`])) as Record<RecipientVariable, string>;
    const attributes = Object.fromEntries(compiled.attributeNames.map((name) => [name, `{{${ATTRIBUTE_PREFIX}.${name}}}`]));
    return compiled.personalize({ ...placeholders, attributes }).subject;
  } catch {
    return source;
  }
}

export interface RecipientIdentity {
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Attributes;
}

/** Builds the allow-listed context for one recipient; names fall back to `fallbackName` ("there" → "Hi there,"). */
export function buildRecipientContext(
  identity: RecipientIdentity,
  urls: { unsubscribeUrl: string; preferencesUrl: string; webVersionUrl: string },
  fallbackName = 'there',
): RecipientContext {
  const name = identity.name.trim();
  const firstName = identity.firstName.trim() || name.split(/\s+/)[0] || '';
  const lastName = identity.lastName.trim() || (identity.firstName.trim() ? '' : name.split(/\s+/).slice(1).join(' '));
  const fullName = name || [firstName, lastName].filter(Boolean).join(' ');
  return {
    firstName: firstName || fallbackName,
    lastName,
    fullName: fullName || fallbackName,
    email: identity.email,
    unsubscribeUrl: urls.unsubscribeUrl,
    preferencesUrl: urls.preferencesUrl,
    webVersionUrl: urls.webVersionUrl,
    attributes: identity.attributes,
  };
}

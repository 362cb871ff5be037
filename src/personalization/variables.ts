/** The allow-list of per-recipient variables a template may use, and the placeholders the renderer puts where they go. */

/** Variables every recipient context has. `attributes.<name>` is allowed on top of these. */
export const RECIPIENT_VARIABLES = [
  'firstName',
  'lastName',
  'fullName',
  'email',
  'unsubscribeUrl',
  'preferencesUrl',
  'webVersionUrl',
] as const;

export type RecipientVariable = (typeof RECIPIENT_VARIABLES)[number];

/** Prefix of custom subscriber attributes, e.g. `{{attributes.company}}`. */
export const ATTRIBUTE_PREFIX = 'attributes';

/** What a template receives as its `recipient` prop: a Handlebars placeholder for each variable. */
export type RecipientPlaceholders = Readonly<Record<RecipientVariable, string>>;

export const RECIPIENT_PLACEHOLDERS: RecipientPlaceholders = Object.freeze(
  Object.fromEntries(RECIPIENT_VARIABLES.map((name) => [name, `{{${name}}}`])) as Record<RecipientVariable, string>,
);

export function isRecipientVariable(name: string): name is RecipientVariable {
  return (RECIPIENT_VARIABLES as readonly string[]).includes(name);
}

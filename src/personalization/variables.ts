/** The allow-list of per-recipient variables a template may use. */

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

/**
 * What a template receives as its `recipient` prop: one string per variable that stands for it (the renderer's
 * markers, which become `{{variable}}` placeholders; or, in React Email's previews, sample values).
 */
export type RecipientPlaceholders = Readonly<Record<RecipientVariable, string>>;

export function isRecipientVariable(name: string): name is RecipientVariable {
  return (RECIPIENT_VARIABLES as readonly string[]).includes(name);
}

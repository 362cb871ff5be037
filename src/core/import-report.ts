/**
 * What an import (or one `subscribers add`) did, kept apart along two lines: what happened to the LIST (joined it,
 * already on it, kept out) and what happened to the PERSON (new, already known, profile changed). Adding 5,000 known
 * people to a new list is "5000 added to the list (0 new people, 5000 already known; 0 profiles changed)".
 */

/** One accepted row's outcome. */
export interface ImportRowOutcome {
  /** `new`: a subscriber row was created; `known`: one existed; `none`: a suppressed address nobody holds a row for. */
  readonly person: 'new' | 'known' | 'none';
  /** `joined`: a membership of the list was created; `already`: they were subscribed to it; `kept-out`: unsubscribed, bounced, suppressed or a sign-up not yet confirmed, left as it was. */
  readonly list: 'joined' | 'already' | 'kept-out';
  /** A known person's name or attributes changed. */
  readonly profileChanged: boolean;
}

export interface ImportCounts {
  /** Rows that became members of the list in this import (newPeople of them were new to Mailroom). */
  readonly addedToList: number;
  /** Rows that created a subscriber. */
  readonly newPeople: number;
  /** Rows for people Mailroom already held, whatever happened to them. */
  readonly alreadyKnown: number;
  /** Rows whose person was subscribed to the list already. */
  readonly alreadyOnList: number;
  /** Known people whose name or attributes changed (on the list or not). */
  readonly profilesChanged: number;
  /** Rows for people on the list already whose profile stayed the same: nothing written. */
  readonly unchanged: number;
  /** Rows for people who are suppressed, unsubscribed, bounced or not yet confirmed: their status and memberships stay as they are (a new name or attribute is still recorded, and counted in profilesChanged). */
  readonly keptOut: number;
}

export const EMPTY_IMPORT_COUNTS: ImportCounts = { addedToList: 0, newPeople: 0, alreadyKnown: 0, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 0 };

/** The counts with one more row. */
export function countImportRow(counts: ImportCounts, row: ImportRowOutcome): ImportCounts {
  return {
    addedToList: counts.addedToList + (row.list === 'joined' ? 1 : 0),
    newPeople: counts.newPeople + (row.person === 'new' ? 1 : 0),
    alreadyKnown: counts.alreadyKnown + (row.person === 'known' ? 1 : 0),
    alreadyOnList: counts.alreadyOnList + (row.list === 'already' ? 1 : 0),
    profilesChanged: counts.profilesChanged + (row.profileChanged ? 1 : 0),
    unchanged: counts.unchanged + (row.list === 'already' && !row.profileChanged ? 1 : 0),
    keptOut: counts.keptOut + (row.list === 'kept-out' ? 1 : 0),
  };
}

const n = (value: number): string => value.toLocaleString('en-US');

/** "5,000 added to list X (0 new people, 5,000 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out (…)". */
export function formatImportCounts(listName: string, counts: ImportCounts): string {
  return (
    `${n(counts.addedToList)} added to list ${listName} (${n(counts.newPeople)} new ${counts.newPeople === 1 ? 'person' : 'people'}, ${n(counts.alreadyKnown)} already known; ` +
    `${n(counts.profilesChanged)} ${counts.profilesChanged === 1 ? 'profile' : 'profiles'} changed), ${n(counts.alreadyOnList)} already on it, ${n(counts.unchanged)} unchanged, ` +
    `${n(counts.keptOut)} kept out (unsubscribed, bounced, suppressed or not yet confirmed)`
  );
}

/** One person's outcome in words, for `subscribers add`. */
export function describeImportRow(email: string, listName: string, row: ImportRowOutcome): string {
  const profile = row.profileChanged ? '; profile changed' : '';
  if (row.list === 'kept-out') return `${email}: kept out of list ${listName} (unsubscribed, bounced, suppressed or not yet confirmed)${profile || '; nothing changed'}`;
  if (row.list === 'joined') return `${email}: added to list ${listName} (${row.person === 'new' ? 'new person' : 'already known'})${profile}`;
  return `${email}: already on list ${listName}${profile || '; nothing changed'}`;
}

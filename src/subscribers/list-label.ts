/** How a list is named to its subscribers: by the newsletters it feeds (the list's own name is internal). Pure. */

/** "A", "A and B", "A, B and C". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/**
 * What a subscriber knows a list as: the names of the newsletters that go to it, oldest newsletter first ("Mailroom
 * Weekly", "Mailroom Weekly and The Friday Digest"), or the list's own name when no newsletter goes to it.
 */
export function listLabel(listName: string, newsletters: readonly { readonly id: number; readonly name: string }[]): string {
  return joinNames([...newsletters].sort((a, b) => a.id - b.id).map((n) => n.name)) || listName;
}

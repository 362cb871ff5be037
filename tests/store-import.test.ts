/**
 * The audience and campaign stores against a real SQLite file: subscriber imports (also against a fresh Postgres database) (counts, merge rules, kept-out people, strict and fatal
 * rollbacks), campaign recipients, the claim/record state machine of sends, and idempotent article upserts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { ArticleInput, MailingList } from '../src/core/domain.ts';
import { isMailroomError } from '../src/core/errors.ts';
import { openStores, type Stores } from '../src/store/open-store.ts';
import { SqlSendClaims } from '../src/store/send-claims-store.ts';
import type { ImportRowResult, SubscriberFields } from '../src/store/store-types.ts';
import { readSubscriberCsv } from '../src/subscribers/csv-rows.ts';
import pg from 'pg';
import { BACKENDS, type Backend } from './store-contract/backends.ts';
import { createTestDatabase, postgresAvailable } from './helpers/postgres.ts';

const HEADER = 'Email,First Name,Last Name,Company,City';

function csv(lines: readonly string[], source = 'people.csv') {
  return readSubscriberCsv(Readable.from([`${lines.join('\n')}\n`]), source);
}

function row(line: number, email: string, extra: Partial<SubscriberFields> = {}): ImportRowResult {
  return { line, ok: true, row: { email, name: '', firstName: '', lastName: '', attributes: {}, ...extra } };
}

let store: Stores;
let list: MailingList;

/** A fresh SQLite file (or, for the import tests, each backend's fresh database) per test. */
function freshStore(backend: Backend = BACKENDS[0] as Backend): void {
  let remove: () => Promise<void> = async () => undefined;
  beforeEach(async () => {
    const database = await backend.create();
    remove = database.remove;
    store = await openStores(database.url);
    list = await store.audience.createList('main');
  });
  afterEach(async () => {
    await store.close();
    await remove();
  });
}

async function counts(): Promise<{ subscribers: number; memberships: number; lists: number }> {
  const n = async (table: 'subscribers' | 'list_memberships' | 'lists') =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { subscribers: await n('subscribers'), memberships: await n('list_memberships'), lists: await n('lists') };
}

async function subscriber(email: string) {
  const s = await store.audience.findSubscriberByEmail(email);
  if (!s) throw new Error(`no subscriber ${email}`);
  return s;
}

for (const backend of BACKENDS) describe.skipIf(!backend.available)(`importSubscribers (${backend.name})`, () => {
  freshStore(backend);

  test('counts added, updated, unchanged and kept out; blank cells never erase known data; attributes merge', async () => {
    const first = await store.audience.importSubscribers(
      list.id,
      csv([HEADER, 'ada@example.com,Ada,Lovelace,Analytical Engines,London', 'grace@example.com,Grace,Hopper,US Navy,', 'linus@example.org,Linus,,,Portland']),
      { source: 'people.csv' },
    );
    expect(first).toEqual({ addedToList: 3, newPeople: 3, alreadyKnown: 0, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 0, rejected: [], applied: true });

    await store.audience.suppressAddress('ghost@example.com', 'manual', 'asked by phone');
    const second = await store.audience.importSubscribers(
      list.id,
      csv([
        HEADER,
        'ada@example.com,,,,', // all blank: nothing erased
        'GRACE@example.com,,,,Arlington', // new attribute merged in, case-insensitive match
        'linus@example.org,Linus,,,Portland', // identical
        'margaret@example.net,Margaret,Hamilton,MIT,Cambridge', // new
        'Ghost@Example.com,Gus,Host,,', // suppressed, no subscriber row
      ]),
      { source: 'people.csv' },
    );
    expect(second).toEqual({ addedToList: 1, newPeople: 1, alreadyKnown: 3, alreadyOnList: 3, profilesChanged: 1, unchanged: 2, keptOut: 1, rejected: [], applied: true });

    const ada = await subscriber('ada@example.com');
    expect(ada).toMatchObject({ name: 'Ada Lovelace', firstName: 'Ada', lastName: 'Lovelace', attributes: { company: 'Analytical Engines', city: 'London' }, status: 'active' });
    const grace = await subscriber('grace@example.com');
    expect(grace).toMatchObject({ name: 'Grace Hopper', attributes: { company: 'US Navy', city: 'Arlington' } });
    expect(await store.audience.findSubscriberByEmail('ghost@example.com')).toBeNull();

    // A changed cell overwrites, an empty one keeps, other attributes stay.
    const third = await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,,Byron,Babbage & Co,']), { source: 'people.csv' });
    expect(third).toMatchObject({ addedToList: 0, newPeople: 0, alreadyKnown: 1, alreadyOnList: 1, profilesChanged: 1, unchanged: 0, keptOut: 0 });
    expect(await subscriber('ada@example.com')).toMatchObject({
      firstName: 'Ada',
      lastName: 'Byron',
      attributes: { company: 'Babbage & Co', city: 'London' },
    });
    expect(await counts()).toEqual({ subscribers: 4, memberships: 4, lists: 1 });
  });

  test('known people joining a second list are "added to the list", apart from "profile changed"; the same file again is all unchanged', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,', 'bob@example.com,Bob,,,']), { source: 'a.csv' });
    const other = await store.audience.createList('other');
    expect(await store.audience.importSubscribers(other.id, csv([HEADER, 'ada@example.com,Ada,,,', 'bob@example.com,Robert,,,', 'cy@example.com,Cy,,,']), { source: 'a.csv' })).toEqual({
      addedToList: 3, newPeople: 1, alreadyKnown: 2, alreadyOnList: 0, profilesChanged: 1, unchanged: 0, keptOut: 0,
      rejected: [],
      applied: true,
    });
    expect(await store.audience.importSubscribers(other.id, csv([HEADER, 'ada@example.com,Ada,,,']), { source: 'a.csv' })).toMatchObject({ addedToList: 0, newPeople: 0, alreadyKnown: 1, alreadyOnList: 1, profilesChanged: 0, unchanged: 1, keptOut: 0 });
    const ada = await subscriber('ada@example.com');
    expect(await store.audience.membershipsOf(ada.id)).toEqual([
      { name: 'main', status: 'subscribed' },
      { name: 'other', status: 'subscribed' },
    ]);
  });

  test('an unsubscribed membership stays unsubscribed on re-import, even when the row brings new data', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,Lovelace,,']), { source: 'a.csv' });
    const ada = await subscriber('ada@example.com');
    await store.audience.unsubscribeFromList(ada.id, list.id);

    const same = await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,Lovelace,,']), { source: 'a.csv' });
    expect(same).toMatchObject({ addedToList: 0, newPeople: 0, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 1 });
    expect(await store.audience.membershipStatus(ada.id, list.id)).toBe('unsubscribed');

    const changed = await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,Lovelace,Analytical Engines,']), { source: 'a.csv' });
    expect(changed).toMatchObject({ addedToList: 0, newPeople: 0, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 1, unchanged: 0, keptOut: 1 });
    expect(await store.audience.membershipStatus(ada.id, list.id)).toBe('unsubscribed');
    expect((await subscriber('ada@example.com')).status).toBe('active');
    expect(await store.audience.listRecipients(list.id, 0, 10)).toEqual([]);
  });

  test('a bounced subscriber stays bounced and joins no list; a suppressed address without a subscriber row is kept out', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,']), { source: 'a.csv' });
    await store.audience.suppressAddress('ada@example.com', 'hard-bounce', '550 5.1.1 User unknown');
    await store.audience.suppressAddress('ghost@example.com', 'complaint', 'FBL');
    expect((await subscriber('ada@example.com')).status).toBe('bounced');

    const again = await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,', 'ghost@example.com,Gus,,,']), { source: 'a.csv' });
    expect(again).toMatchObject({ addedToList: 0, newPeople: 0, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 2 });
    expect((await subscriber('ada@example.com')).status).toBe('bounced');
    expect(await store.audience.findSubscriberByEmail('ghost@example.com')).toBeNull();

    const other = await store.audience.createList('other');
    const elsewhere = await store.audience.importSubscribers(other.id, csv([HEADER, 'ada@example.com,Ada,,,', 'ghost@example.com,,,,']), { source: 'a.csv' });
    expect(elsewhere).toMatchObject({ addedToList: 0, newPeople: 0, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 2 });
    const ada = await subscriber('ada@example.com');
    expect(await store.audience.membershipStatus(ada.id, other.id)).toBeNull();
    expect(await counts()).toEqual({ subscribers: 1, memberships: 1, lists: 2 });
  });

  test('strict: one rejected row rolls back every other row of the file, updates included, and reports the rejections', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,']), { source: 'a.csv' });
    const report = await store.audience.importSubscribers(
      list.id,
      csv([HEADER, 'grace@example.com,Grace,,,', 'ada@example.com,Ada,Lovelace,Analytical Engines,', 'bob@,Bob,,,', 'GRACE@example.com,G,,,']),
      { source: 'b.csv', strict: true },
    );
    expect(report).toEqual({
      addedToList: 0,
      newPeople: 0,
      alreadyKnown: 0,
      alreadyOnList: 0,
      profilesChanged: 0,
      unchanged: 0,
      keptOut: 0,
      applied: false,
      rejected: [
        { line: 4, reason: 'is not an email address', value: '"bob@"' },
        { line: 5, reason: 'duplicates line 2', value: '"GRACE@example.com"' },
      ],
    });
    expect(await store.audience.findSubscriberByEmail('grace@example.com')).toBeNull();
    expect(await subscriber('ada@example.com')).toMatchObject({ lastName: '', attributes: {} });
    expect(await counts()).toEqual({ subscribers: 1, memberships: 1, lists: 1 });

    // Not strict: the good rows go in, the bad ones are reported.
    const lenient = await store.audience.importSubscribers(
      list.id,
      csv([HEADER, 'grace@example.com,Grace,,,', 'ada@example.com,Ada,Lovelace,Analytical Engines,', 'bob@,Bob,,,', 'GRACE@example.com,G,,,']),
      { source: 'b.csv' },
    );
    expect(lenient).toMatchObject({ addedToList: 1, newPeople: 1, alreadyKnown: 1, alreadyOnList: 1, profilesChanged: 1, unchanged: 0, keptOut: 0, applied: true });
    expect(lenient.rejected.map((r) => r.line)).toEqual([4, 5]);
  });

  test('a fatal error thrown mid-stream leaves nothing written (one transaction)', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,']), { source: 'a.csv' });
    const before = await counts();
    async function* rows(): AsyncGenerator<ImportRowResult> {
      yield row(2, 'grace@example.com', { name: 'Grace', firstName: 'Grace' });
      yield row(3, 'linus@example.org');
      yield row(4, 'ada@example.com', { lastName: 'Lovelace', attributes: { city: 'London' } });
      throw new Error('disk went away');
    }
    await expect(store.audience.importSubscribers(list.id, rows(), { source: 'x.csv' })).rejects.toThrow('disk went away');
    expect(await counts()).toEqual(before);
    expect(await store.audience.findSubscriberByEmail('grace@example.com')).toBeNull();
    expect(await subscriber('ada@example.com')).toMatchObject({ lastName: '', attributes: {} });

    // The same through the CSV reader: a syntax error it cannot recover from after two good rows.
    const error: unknown = await store.audience.importSubscribers(list.id, csv([HEADER, 'grace@example.com,Grace,,,', 'linus@example.org,Linus,,,', 'x@example.com,"X"y,,,', 'z@example.com,Z,,,'], 'broken.csv'), { source: 'broken.csv' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isMailroomError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^broken\.csv line 4: /);
    expect(await counts()).toEqual(before);

    // The store is still usable afterwards (the transaction was released).
    expect(await store.audience.importSubscribers(list.id, csv([HEADER, 'grace@example.com,Grace,,,']), { source: 'ok.csv' })).toMatchObject({ addedToList: 1, newPeople: 1 });
  });

  test('20,000 rows (many staging chunks): strict with one bad row near the end writes nothing; repeats across chunks keep their first line', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'known@example.com,Kay,Known,,']), { source: 'a.csv' });
    const before = await counts();
    const lines = [HEADER];
    for (let i = 0; i < 20_000; i += 1) lines.push(`person${i}@example.com,P${i},Q,,`);
    lines[19_990] = 'not-an-address,Bad,Row,,'; // file line 19,991
    lines[15_000] = 'PERSON3@Example.com,Again,,,'; // file line 15,001 repeats line 5
    lines[18_000] = 'known@example.com,Kay,Known,Acme,'; // a known person, profile changed
    const strict = await store.audience.importSubscribers(list.id, csv(lines), { source: 'big.csv', strict: true });
    expect(strict).toEqual({
      ...{ addedToList: 0, newPeople: 0, alreadyKnown: 0, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 0 },
      applied: false,
      rejected: [
        { line: 15_001, reason: 'duplicates line 5', value: '"PERSON3@Example.com"' },
        { line: 19_991, reason: 'is not an email address', value: '"not-an-address"' },
      ],
    });
    expect(await counts()).toEqual(before);
    expect(await subscriber('known@example.com')).toMatchObject({ attributes: {} });

    const lenient = await store.audience.importSubscribers(list.id, csv(lines), { source: 'big.csv' });
    expect(lenient).toMatchObject({ addedToList: 19_997, newPeople: 19_997, alreadyKnown: 1, alreadyOnList: 1, profilesChanged: 1, unchanged: 0, keptOut: 0, applied: true });
    expect(lenient.rejected.map((r) => r.line)).toEqual([15_001, 19_991]);
    expect(await counts()).toEqual({ subscribers: 19_998, memberships: 19_998, lists: 1 });
    // The first of the repeated rows won; ids follow the file.
    expect(await subscriber('person3@example.com')).toMatchObject({ firstName: 'P3' });
    expect((await subscriber('person0@example.com')).id).toBeLessThan((await subscriber('person19999@example.com')).id);
    expect(await subscriber('known@example.com')).toMatchObject({ attributes: { company: 'Acme' } });
  });

  test('repeats, suppressions and rejections are reported as one line-ordered list, as the reader reported them', async () => {
    await store.audience.importSubscribers(list.id, csv([HEADER, 'kept@example.com,Kept,,,']), { source: 'a.csv' });
    await store.audience.suppressAddress('ghost@example.com', 'complaint', 'FBL');
    await store.audience.suppressAddress('kept@example.com', 'manual', 'asked');
    const report = await store.audience.importSubscribers(
      list.id,
      csv([
        HEADER,
        'bob@,Bob,,,', // 2: rejected, so not the "first" of bob@'s repeats
        'ann@example.com,Ann,,,', // 3
        'ghost@example.com,Gus,,,', // 4: suppressed, nobody holds a row: kept out
        'Ann@Example.com,Annie,,,', // 5: repeats 3
        'kept@example.com,Kept,,,', // 6: known, suppressed: kept out
        'GHOST@example.com,,,,', // 7: repeats 4
        'ann@example.com,A,,,', // 8: repeats 3
        'x@example.com,X,Y,Z,W,extra', // 9: too many values
      ]),
      { source: 'b.csv' },
    );
    expect(report).toEqual({
      addedToList: 1, newPeople: 1, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 0, unchanged: 0, keptOut: 2,
      applied: true,
      rejected: [
        { line: 2, reason: 'is not an email address', value: '"bob@"' },
        { line: 5, reason: 'duplicates line 3', value: '"Ann@Example.com"' },
        { line: 7, reason: 'duplicates line 4', value: '"GHOST@example.com"' },
        { line: 8, reason: 'duplicates line 3', value: '"ann@example.com"' },
        { line: 9, reason: expect.stringContaining('has 6 values but the header has 5 columns') },
      ],
    });
    expect(await subscriber('ann@example.com')).toMatchObject({ firstName: 'Ann' });
    expect(await store.audience.findSubscriberByEmail('ghost@example.com')).toBeNull();
  });

  test("merged attributes keep the known keys in their order, the file's values over them, new keys after", async () => {
    await store.audience.importSubscribers(list.id, csv(['email,company,city,team', 'ada@example.com,Engines,London,R&D']), { source: 'a.csv' });
    const report = await store.audience.importSubscribers(list.id, csv(['email,plan,city', 'ada@example.com,gold,"Paris\ttab"']), { source: 'b.csv' });
    expect(report).toMatchObject({ alreadyKnown: 1, profilesChanged: 1, alreadyOnList: 1, unchanged: 0 });
    const ada = await subscriber('ada@example.com');
    expect(Object.entries(ada.attributes)).toEqual([
      ['company', 'Engines'],
      ['city', 'Paris\ttab'],
      ['team', 'R&D'],
      ['plan', 'gold'],
    ]);
    // The same values again change nothing.
    expect(await store.audience.importSubscribers(list.id, csv(['email,plan,city', 'ada@example.com,gold,"Paris\ttab"']), { source: 'b.csv' })).toMatchObject({ profilesChanged: 0, unchanged: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------

async function makeIssue(listId: number) {
  const newsletter = await store.newsletters.createNewsletter({
    slug: 'weekly',
    name: 'Weekly',
    fromName: 'Weekly',
    fromEmail: 'news@example.com',
    replyTo: '',
    listId,
    template: 'digest',
    postalAddress: '1 Main St',
    logoUrl: '',
    subjectTemplate: '{title}',
    maxArticles: 5,
    language: 'en',
  });
  const issue = await store.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'Hello', preheader: '', html: '<p>Hi {{firstName}}</p>', text: 'Hi {{firstName}}', articleIds: [] });
  return { newsletter, issue };
}

describe('campaigns and sends', () => {
  freshStore();

  async function people() {
    const other = await store.audience.createList('other');
    await store.audience.importSubscribers(
      list.id,
      csv([
        HEADER,
        'a@example.com,A,,,', // active + subscribed
        'b@example.com,B,,,', // unsubscribed from the list
        'c@example.com,C,,,', // hard bounce
        'd@example.com,D,,,', // manually suppressed (status stays active)
        'e@example.com,E,,,', // complained
        'f@example.com,F,,,', // active + subscribed
      ]),
      { source: 'p.csv' },
    );
    await store.audience.importSubscribers(other.id, csv([HEADER, 'g@example.com,G,,,']), { source: 'p.csv' });
    const id = async (email: string) => (await subscriber(email)).id;
    await store.audience.unsubscribeFromList(await id('b@example.com'), list.id);
    await store.audience.suppressAddress('c@example.com', 'hard-bounce', '550 5.1.1');
    await store.audience.suppressAddress('d@example.com', 'manual', 'asked');
    await store.audience.suppressAddress('e@example.com', 'complaint', 'FBL');
    return { other, id };
  }

  test('createCampaign fixes exactly the active, subscribed, unsuppressed members, as pending sends', async () => {
    await people();
    expect((await subscriber('d@example.com')).status).toBe('active');
    const { newsletter, issue } = await makeIssue(list.id);
    const { campaign, recipients } = await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
    expect(recipients).toBe(2);
    expect(campaign.status).toBe('sending');
    const sends = await store.campaigns.listSends(campaign.id);
    expect(sends.map((s) => [s.email, s.status, s.attempts])).toEqual([
      ['a@example.com', 'pending', 0],
      ['f@example.com', 'pending', 0],
    ]);
    expect((await store.audience.listRecipients(list.id, 0, 100)).map((s) => s.email)).toEqual(['a@example.com', 'f@example.com']);

    // Fixed at creation: someone added afterwards is not part of this campaign.
    await store.audience.addSubscriber(list.id, { email: 'late@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'test');
    expect((await store.campaigns.listSends(campaign.id)).length).toBe(2);
    expect(await store.campaigns.countSends(campaign.id)).toEqual({ pending: 2, sending: 0, deferred: 0, sent: 0, failed: 0, skipped: 0 });
  });

  test('listDueRecipients/claimForSending move only due, mailable rows to sending; recordOutcomes only moves rows that are sending', async () => {
    const { id } = await people();
    const { newsletter, issue } = await makeIssue(list.id);
    const { campaign } = await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
    const a = await id('a@example.com');
    const f = await id('f@example.com');
    const t0 = '2030-01-01T00:00:00.000Z';
    const statuses = async () => (await store.campaigns.listSends(campaign.id)).map((s) => [s.email, s.status, s.attempts]);

    // Listing changes nothing.
    const due = await store.campaigns.listDueRecipients(campaign.id, 10, t0);
    expect(due).toEqual([
      expect.objectContaining({ subscriberId: a, email: 'a@example.com', firstName: 'A', attempts: 0, skipReason: null }),
      expect.objectContaining({ subscriberId: f, email: 'f@example.com', firstName: 'F', attempts: 0, skipReason: null }),
    ]);
    expect(await store.campaigns.countSends(campaign.id)).toMatchObject({ pending: 2, sending: 0 });

    // Claim a only: it alone moves to sending.
    expect(await store.campaigns.claimForSending(campaign.id, [a], t0)).toEqual(new Map([[a, null]]));
    expect(await statuses()).toEqual([
      ['a@example.com', 'sending', 0],
      ['f@example.com', 'pending', 0],
    ]);
    // Claiming again is refused: it is no longer pending.
    expect((await store.campaigns.claimForSending(campaign.id, [a], t0)).get(a)).toBe('no longer pending');

    // f is still pending: an outcome for it is ignored; a's is recorded.
    await store.campaigns.recordOutcomes(
      campaign.id,
      [
        { subscriberId: a, status: 'sent', smtpResponse: '250 OK', messageId: '<1@example.com>' },
        { subscriberId: f, status: 'sent', smtpResponse: '250 OK', messageId: '<2@example.com>' },
        { subscriberId: f, status: 'failed', smtpResponse: '550 no', error: 'nope' },
        { subscriberId: f, status: 'deferred', smtpResponse: '451 later', error: 'later', nextAttemptAt: t0 },
      ],
      t0,
    );
    expect(await statuses()).toEqual([
      ['a@example.com', 'sent', 1],
      ['f@example.com', 'pending', 0],
    ]);
    // A late, second outcome for a row already sent changes nothing.
    await store.campaigns.recordOutcomes(campaign.id, [{ subscriberId: a, status: 'failed', smtpResponse: '550 no', error: 'late' }], t0);
    await store.campaigns.recordOutcomes(campaign.id, [{ subscriberId: a, status: 'released' }], t0);
    expect((await store.campaigns.listSends(campaign.id, { status: 'sent' })).map((s) => s.email)).toEqual(['a@example.com']);

    // Deferred: not due before next_attempt_at, due after; attempts count.
    expect(await store.campaigns.claimForSending(campaign.id, [f], t0)).toEqual(new Map([[f, null]]));
    await store.campaigns.recordOutcomes(campaign.id, [{ subscriberId: f, status: 'deferred', smtpResponse: '451 later', error: 'try later', nextAttemptAt: '2030-01-01T00:05:00.000Z' }], t0);
    expect(await store.campaigns.nextDeferredAt(campaign.id)).toBe('2030-01-01T00:05:00.000Z');
    expect(await store.campaigns.listDueRecipients(campaign.id, 10, '2030-01-01T00:04:59.000Z')).toEqual([]);
    expect(await store.campaigns.listDueRecipients(campaign.id, 10, '2030-01-01T00:05:00.000Z')).toEqual([expect.objectContaining({ subscriberId: f, attempts: 1, skipReason: null })]);

    // Released: back to pending, the attempt not counted.
    expect(await store.campaigns.claimForSending(campaign.id, [f], '2030-01-01T00:05:00.000Z')).toEqual(new Map([[f, null]]));
    await store.campaigns.recordOutcomes(campaign.id, [{ subscriberId: f, status: 'released' }], t0);
    expect(await statuses()).toEqual([
      ['a@example.com', 'sent', 1],
      ['f@example.com', 'pending', 1],
    ]);

    // Unsubscribed in the meantime: listed with a skip reason, and the claim refuses it (the row stays pending).
    await store.audience.unsubscribeFromList(f, list.id);
    expect(await store.campaigns.listDueRecipients(campaign.id, 10, t0)).toEqual([expect.objectContaining({ subscriberId: f, skipReason: 'unsubscribed from the list' })]);
    expect(await store.campaigns.claimForSending(campaign.id, [f], t0)).toEqual(new Map([[f, 'unsubscribed from the list']]));
    expect(await store.campaigns.countSends(campaign.id)).toMatchObject({ pending: 1, sending: 0, sent: 1 });
    await store.campaigns.recordOutcomes(campaign.id, [{ subscriberId: f, status: 'skipped', error: 'unsubscribed from the list' }], t0);
    expect(await store.campaigns.countSends(campaign.id)).toEqual({ pending: 0, sending: 0, deferred: 0, sent: 1, failed: 0, skipped: 1 });
    expect(await store.campaigns.listDueRecipients(campaign.id, 10, '2031-01-01T00:00:00.000Z')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('upsertArticle', () => {
  freshStore();

  const base: ArticleInput = {
    slug: 'hello-world',
    title: 'Hello World',
    summary: 'A greeting.',
    body: 'Hello **world**.',
    canonicalUrl: 'https://blog.example.com/hello',
    author: 'Ada',
    publishedAt: '2026-11-20T09:00:00.000Z',
    leadImage: { url: '/media/hello.png', alt: 'A wave' },
    tags: ['greeting', 'demo'],
  };

  test('is idempotent by slug and by canonical URL', async () => {
    const first = await store.content.upsertArticle(base);
    expect(first.outcome).toBe('added');
    const again = await store.content.upsertArticle({ ...base, tags: [...base.tags], leadImage: { url: '/media/hello.png', alt: 'A wave' } });
    expect(again).toEqual({ outcome: 'unchanged', article: first.article });

    const bySlug = await store.content.upsertArticle({ ...base, title: 'Hello, World', canonicalUrl: '' });
    expect(bySlug.outcome).toBe('updated');
    expect(bySlug.article).toMatchObject({ id: first.article.id, title: 'Hello, World', canonicalUrl: '' });

    const restored = await store.content.upsertArticle(base);
    expect(restored).toMatchObject({ outcome: 'updated', article: { id: first.article.id } });

    // Same canonical URL under a new slug: the same article, renamed, never a duplicate.
    const byUrl = await store.content.upsertArticle({ ...base, slug: 'hello-world-2' });
    expect(byUrl.outcome).toBe('updated');
    expect(byUrl.article).toMatchObject({ id: first.article.id, slug: 'hello-world-2' });
    expect(await store.content.upsertArticle({ ...base, slug: 'hello-world-2' })).toMatchObject({ outcome: 'unchanged' });
    expect(await store.content.findArticle('hello-world')).toBeNull();
    expect((await store.content.findArticle('https://blog.example.com/hello'))?.id).toBe(first.article.id);
    expect(await store.content.listArticles()).toHaveLength(1);

    // Without a lead image and tags, round-tripped as such.
    const plain = await store.content.upsertArticle({ ...base, slug: 'plain', canonicalUrl: '', leadImage: null, tags: [] });
    expect(plain.outcome).toBe('added');
    expect(await store.content.upsertArticle({ ...base, slug: 'plain', canonicalUrl: '', leadImage: null, tags: [] })).toMatchObject({ outcome: 'unchanged' });
    expect(await store.content.listArticles()).toHaveLength(2);
  });

  test('a slug and a canonical URL that belong to two different articles is a conflict, and nothing changes', async () => {
    await store.content.upsertArticle(base);
    await store.content.upsertArticle({ ...base, slug: 'other', canonicalUrl: 'https://blog.example.com/other', title: 'Other' });
    const error: unknown = await store.content.upsertArticle({ ...base, slug: 'other', title: 'Mixed up' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMailroomError(error) && error.code).toBe('CONFLICT');
    expect((error as Error).message).toContain('"other"');
    expect((error as Error).message).toContain('https://blog.example.com/hello');
    expect((await store.content.listArticles()).map((a) => a.title).sort()).toEqual(['Hello World', 'Other']);
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** Resolves with `work`'s value, or fails with `message` after `ms` (a write blocked by the import would wait forever). */
async function within<T>(ms: number, message: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A list with Ada and Bob, and a campaign to it that is sending (two pending rows). */
async function sendingCampaign(s: Stores): Promise<{ listId: number; campaignId: number }> {
  const main = await s.audience.createList('main');
  await s.audience.importSubscribers(main.id, csv([HEADER, 'ada@example.com,Ada,,,', 'bob@example.com,Bob,,,']), { source: 'a.csv' });
  const newsletter = await s.newsletters.createNewsletter({ slug: 'weekly', name: 'Weekly', fromName: 'W', fromEmail: 'news@example.com', replyTo: '', listId: main.id, template: 'digest', postalAddress: '1 Main St', logoUrl: '', subjectTemplate: '{title}', maxArticles: 5, language: 'en' });
  const issue = await s.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'Hi', preheader: '', html: '<p>Hi</p>', text: 'Hi', articleIds: [] });
  const { campaign } = await s.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: main.id });
  await s.campaigns.setCampaignStatus(campaign.id, 'sending');
  return { listId: main.id, campaignId: campaign.id };
}

function newPeople(n: number): string[] {
  const lines = [HEADER];
  for (let i = 0; i < n; i += 1) lines.push(`new${i}@example.com,N${i},,,`);
  lines.push('ada@example.com,Ada,Lovelace,,');
  return lines;
}

describe.skipIf(!postgresAvailable)('import apply on Postgres while a campaign sends', () => {
  test('send rows are claimed and their outcomes written while an import applies; the apply takes no table lock', async () => {
    const database = await createTestDatabase();
    const importer = await openStores(database.url);
    const sender = await openStores(database.url);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { listId, campaignId } = await sendingCampaign(importer);
      const claims = new SqlSendClaims(sender.db);
      let hookRan = false;

      const report = await importer.audience.importSubscribers(listId, csv(newPeople(5000)), {
        source: 'b.csv',
        // Inside the apply transaction, after the new people are inserted: it stays open until this returns.
        onApply: async (phase) => {
          if (phase !== 'started') return;
          hookRan = true;
          // The import's backend: the one session that holds a lock on its TEMP table.
          const { rows: pids } = await admin.query<{ pid: number }>(
            `SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname LIKE 'mailroom_import_%' AND l.pid <> pg_backend_pid()`,
          );
          expect(pids).toHaveLength(1);
          const { rows: locks } = await admin.query<{ relname: string; mode: string }>(
            `SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE l.pid = $1 AND l.locktype = 'relation' AND c.relname IN ('subscribers', 'list_memberships', 'sends', 'campaigns')`,
            [pids[0]?.pid],
          );
          // It has written subscribers (so this is the apply's transaction), with nothing stronger than ROW EXCLUSIVE.
          expect(locks).toContainEqual({ relname: 'subscribers', mode: 'RowExclusiveLock' });
          expect(locks.filter((l) => !['AccessShareLock', 'RowShareLock', 'RowExclusiveLock'].includes(l.mode))).toEqual([]);

          // Meanwhile the campaign claims its due rows and records their outcomes, on the engine port and on the shared
          // claims, without waiting for the import.
          const now = new Date().toISOString();
          await within(5000, 'claiming and recording a send waited for the import apply (a table lock?)', (async () => {
            const due = await sender.campaigns.listDueRecipients(campaignId, 1, now);
            expect(due.map((d) => d.email)).toEqual(['ada@example.com']);
            const ada = due[0]?.subscriberId ?? -1;
            expect(await sender.campaigns.claimForSending(campaignId, [ada], now)).toEqual(new Map([[ada, null]]));
            await sender.campaigns.recordOutcomes(campaignId, [{ subscriberId: ada, status: 'sent', smtpResponse: '250 OK', messageId: '<1@example.com>' }], now);
            const batch = await claims.claimBatch(campaignId, 'w1', 10, 60_000, now);
            expect(batch.map((d) => d.email)).toEqual(['bob@example.com']);
            const bob = batch[0]?.subscriberId ?? -1;
            await sender.campaigns.recordOutcomes(campaignId, [{ subscriberId: bob, status: 'sent', smtpResponse: '250 OK', messageId: '<2@example.com>' }], now);
          })());
          expect(await sender.campaigns.countSends(campaignId)).toMatchObject({ sent: 2, pending: 0 });
          // Nothing of the import is visible yet: all or nothing.
          expect(await sender.audience.findSubscriberByEmail('new0@example.com')).toBeNull();
        },
      });
      expect(hookRan).toBe(true);
      expect(report).toMatchObject({ addedToList: 5000, newPeople: 5000, alreadyKnown: 1, alreadyOnList: 1, profilesChanged: 1, applied: true });
      expect(await sender.audience.findSubscriberByEmail('new4999@example.com')).not.toBeNull();
    } finally {
      await admin.end();
      await importer.close();
      await sender.close();
      await database.drop();
    }
  });
});

describe('import staging on SQLite while another process writes', () => {
  test('staging holds no write lock on the database: another connection writes at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-import-'));
    const file = join(dir, 'mailroom.db');
    const importer = await openStores(file);
    // Another process's connection: no busy timeout, so a held write lock is an immediate SQLITE_BUSY, not a wait.
    const other = new Database(file, { timeout: 0 });
    try {
      const { listId } = await sendingCampaign(importer);
      let hookRan = false;
      const report = await importer.audience.importSubscribers(listId, csv(newPeople(2500)), {
        source: 'b.csv',
        // Inside the first chunk's staging transaction.
        onStaged: async () => {
          hookRan = true;
          other.exec('BEGIN IMMEDIATE');
          other.prepare(`UPDATE sends SET status = 'sent' WHERE status = 'pending'`).run();
          other.exec('COMMIT');
        },
      });
      expect(hookRan).toBe(true);
      expect(report).toMatchObject({ addedToList: 2500, newPeople: 2500, applied: true });
      expect(other.prepare(`SELECT count(*) AS n FROM sends WHERE status = 'sent'`).get()).toEqual({ n: 2 });
    } finally {
      other.close();
      await importer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!postgresAvailable)('import apply on Postgres racing another writer', () => {
  test('someone adds a person of the file after the import classified its rows: the apply fails on the unique address, runs again, and the report counts that person as known', async () => {
    const database = await createTestDatabase();
    const importer = await openStores(database.url);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      const list = await importer.audience.createList('main');
      const phases: string[] = [];
      const report = await importer.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,', 'bob@example.com,Bob,,,', 'cy@example.com,Cy,,,']), {
        source: 'race.csv',
        onApply: async (phase) => {
          phases.push(phase);
          // The first attempt has found Bob new; another process adds him now, and commits, before the apply inserts.
          if (phase === 'classified' && phases.length === 1) {
            const now = new Date().toISOString();
            await other.query(
              `INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at) VALUES ('bob@example.com', 'Robert', '', '', '{}', 'active', 'api', $1, $1, $1)`,
              [now],
            );
          }
        },
      });
      // Attempt 1: classified, then the INSERT failed. Attempt 2: classified, started.
      expect(phases).toEqual(['classified', 'classified', 'started']);
      expect(report).toMatchObject({ applied: true, addedToList: 3, newPeople: 2, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 1, rejected: [] });
      const people = await other.query<{ email: string; name: string; n: string }>(`SELECT email, min(name) AS name, count(*) AS n FROM subscribers GROUP BY email ORDER BY email`);
      expect(people.rows.map((r) => [r.email, r.name, Number(r.n)])).toEqual([
        ['ada@example.com', 'Ada', 1],
        // Known by the time the apply ran again: the file's name for him differs from the other process's, so it is recorded.
        ['bob@example.com', 'Bob', 1],
        ['cy@example.com', 'Cy', 1],
      ]);
      const members = await other.query<{ n: string }>(`SELECT count(*) AS n FROM list_memberships WHERE list_id = $1 AND status = 'subscribed'`, [list.id]);
      expect(Number(members.rows[0]?.n)).toBe(3);
    } finally {
      await other.end();
      await importer.close();
      await database.drop();
    }
  });
});

describe('import on SQLite racing another writer', () => {
  test('someone adds a person of the file between staging and apply: the apply finds them known; during the apply nobody else can write, so it runs once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-import-'));
    const file = join(dir, 'mailroom.db');
    const importer = await openStores(file);
    // Another process's connection: no busy timeout, so a held write lock is an immediate SQLITE_BUSY, not a wait.
    const other = new Database(file, { timeout: 0 });
    try {
      const list = await importer.audience.createList('main');
      const phases: string[] = [];
      let busy: unknown = null;
      const report = await importer.audience.importSubscribers(list.id, csv([HEADER, 'ada@example.com,Ada,,,', 'bob@example.com,Bob,,,', 'cy@example.com,Cy,,,']), {
        source: 'race.csv',
        // Staged, not yet applied: another process adds Bob, and commits.
        onStaged: async () => {
          const now = new Date().toISOString();
          other
            .prepare(`INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at) VALUES ('bob@example.com', 'Robert', '', '', '{}', 'active', 'api', ?, ?, ?)`)
            .run(now, now, now);
        },
        onApply: async (phase) => {
          phases.push(phase);
          if (phase !== 'classified') return;
          // Classified: Cy is new. Another process trying to add him now cannot: the apply holds the write lock.
          try {
            const now = new Date().toISOString();
            other
              .prepare(`INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at) VALUES ('cy@example.com', 'Cyrus', '', '', '{}', 'active', 'api', ?, ?, ?)`)
              .run(now, now, now);
          } catch (error) {
            busy = error;
          }
        },
      });
      expect((busy as { code?: string } | null)?.code).toBe('SQLITE_BUSY');
      // One attempt: nothing could slip in between its classification and its insert.
      expect(phases).toEqual(['classified', 'started']);
      expect(report).toMatchObject({ applied: true, addedToList: 3, newPeople: 2, alreadyKnown: 1, alreadyOnList: 0, profilesChanged: 1, rejected: [] });
      const people = other.prepare(`SELECT email, min(name) AS name, count(*) AS n FROM subscribers GROUP BY email ORDER BY email`).all() as { email: string; name: string; n: number }[];
      expect(people.map((r) => [r.email, r.name, r.n])).toEqual([
        ['ada@example.com', 'Ada', 1],
        ['bob@example.com', 'Bob', 1],
        ['cy@example.com', 'Cy', 1],
      ]);
      expect(other.prepare(`SELECT count(*) AS n FROM list_memberships WHERE list_id = ? AND status = 'subscribed'`).get(list.id)).toEqual({ n: 3 });
    } finally {
      other.close();
      await importer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

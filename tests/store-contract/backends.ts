/**
 * The backends every store contract test runs against: a SQLite file and a fresh Postgres database. Each test opens
 * its database through DATABASE_URL as the app does, twice when it races two processes' connections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArticleInput } from '../../src/core/domain.ts';
import { openStores as openDatabaseStores, type Stores } from '../../src/store/open-store.ts';
import type { NewsletterInput } from '../../src/store/store-types.ts';
import { createTestDatabase, postgresAvailable } from '../helpers/postgres.ts';

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  readonly available: boolean;
  /** A new empty database; returns its DATABASE_URL and how to remove it. */
  create(): Promise<{ url: string; remove(): Promise<void> }>;
}

export const BACKENDS: readonly Backend[] = [
  {
    name: 'sqlite',
    available: true,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'mailroom-contract-'));
      return { url: join(dir, 'mailroom.db'), remove: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    available: postgresAvailable,
    async create() {
      const db = await createTestDatabase();
      return { url: db.url, remove: () => db.drop() };
    },
  },
];

/**
 * A migrated database with `connections` stores open on it: on Postgres, separate pools (separate connections, as
 * separate processes have). On SQLite, one store: better-sqlite3 is synchronous, so a second connection in the same
 * process waiting on the write lock (busy_timeout) blocks the event loop the first one needs to commit. SQLite's
 * races between processes are raced by real processes in signup-store.test.ts and lease-takeover.test.ts.
 */
export async function openContractStores(backend: Backend, connections: number): Promise<{ stores: Stores[]; url: string; close(): Promise<void> }> {
  const database = await backend.create();
  const first = await openDatabaseStores(database.url);
  const stores = [first];
  for (let i = 1; i < connections; i += 1) stores.push(backend.name === 'sqlite' ? first : await openDatabaseStores(database.url));
  return {
    stores,
    url: database.url,
    async close() {
      for (const store of new Set(stores)) await store.close();
      await database.remove();
    },
  };
}

export function article(slug: string, extra: Partial<ArticleInput> = {}): ArticleInput {
  return {
    slug,
    canonicalUrl: `https://example.com/${slug}`,
    title: `Title ${slug}`,
    summary: 'Summary',
    body: 'Body text.',
    author: 'Ann',
    publishedAt: '2026-01-01T00:00:00.000Z',
    leadImage: null,
    tags: ['news'],
    ...extra,
  };
}

export function newsletterInput(slug: string, listId: number): NewsletterInput {
  return {
    slug,
    name: `The ${slug}`,
    fromName: 'Ann',
    fromEmail: 'ann@example.com',
    replyTo: '',
    listId,
    template: 'digest',
    postalAddress: '1 Main St',
    logoUrl: '',
    subjectTemplate: '{{subject}}',
    maxArticles: 5,
    language: 'en',
  };
}

/** Import rows for `count` subscribers named sub0…@example.com. */
export async function* importRows(count: number, prefix = 'sub') {
  for (let i = 0; i < count; i += 1) {
    yield { line: i + 2, ok: true as const, row: { email: `${prefix}${i}@example.com`, name: `Sub ${i}`, firstName: 'Sub', lastName: String(i), attributes: {} } };
  }
}

/** A list of `people` imported subscribers, a newsletter and an issue for it, and a campaign to the list (recipients fixed). */
export async function campaignOf(store: Stores, name: string, people: number): Promise<number> {
  const list = await store.audience.createList(name);
  await store.audience.importSubscribers(list.id, importRows(people, name), { source: `${name}.csv` });
  const newsletter = await store.newsletters.createNewsletter(newsletterInput(name, list.id));
  const issue = await store.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'S', preheader: '', html: 'h', text: 't', articleIds: [] });
  return (await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id })).campaign.id;
}

/** One store on each available backend for a describe block: opened before its tests, closed after. */
export function storeForEach(backend: Backend, beforeAll: (fn: () => Promise<void>) => void, afterAll: (fn: () => Promise<void>) => void): () => Stores {
  let store: Stores | null = null;
  let close: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    const opened = await openContractStores(backend, 1);
    store = opened.stores[0] as Stores;
    close = opened.close;
  });
  afterAll(async () => {
    await close();
  });
  return () => {
    if (!store) throw new Error('the store is not open yet');
    return store;
  };
}

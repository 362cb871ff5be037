/**
 * A Postgres database holding one campaign of `recipients` subscribers, in `sending`, for the many-workers tests and
 * benchmarks (tests/many-workers.test.ts, scripts/bench-workers.ts). Subscribers and memberships are made by one
 * INSERT … SELECT generate_series each (the CSV import has its own benchmark); the campaign's rows by createCampaign.
 */
import { sql } from 'kysely';
import { openStores } from '../src/store/open-store.ts';
import { createScratchDatabase } from './lib/scratch-database.ts';

export interface WorkersDatabase {
  readonly url: string;
  readonly campaignId: number;
  /** How long createCampaign took (the campaign's recipients fixed: one send row per subscriber), ms. */
  readonly recipientsFixedMs: number;
  drop(): Promise<void>;
}

/** Address of the i-th subscriber (1-based). */
export function recipientEmail(i: number): string {
  return `reader${i}@example.com`;
}

export async function createWorkersDatabase(recipients: number, options: { campaigns?: number } = {}): Promise<WorkersDatabase> {
  const scratch = await createScratchDatabase('mailroom_workers');
  const store = await openStores(scratch.url);
  let campaignId = 0;
  let recipientsFixedMs = 0;
  try {
    const list = await store.audience.createList('readers');
    const now = new Date().toISOString();
    await sql`INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at)
      SELECT 'reader' || i || '@example.com', 'Reader ' || i, 'Reader', CAST(i AS text), '{}', 'active', 'import', ${now}, ${now}, ${now}
      FROM generate_series(1, ${recipients}) AS i`.execute(store.db);
    await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at, consent_at)
      SELECT ${list.id}, id, 'subscribed', ${now}, ${now}, ${now} FROM subscribers`.execute(store.db);
    const newsletter = await store.newsletters.createNewsletter({
      slug: 'weekly',
      name: 'The Weekly',
      fromName: 'Ann',
      fromEmail: 'ann@example.com',
      replyTo: '',
      listId: list.id,
      template: 'digest',
      postalAddress: '1 Main St, Springfield',
      logoUrl: '',
      subjectTemplate: '{{subject}}',
      maxArticles: 5,
      language: 'en',
    });
    const issue = await store.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'Issue one', preheader: '', html: '<p>Hello {{firstName}}</p>', text: 'Hello {{firstName}}', articleIds: [] });
    await sql`ANALYZE`.execute(store.db);
    const fixing = performance.now();
    const { campaign } = await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
    recipientsFixedMs = performance.now() - fixing;
    campaignId = campaign.id;
    await sql`ANALYZE`.execute(store.db);
  } finally {
    await store.close();
  }
  return { url: scratch.url, campaignId, recipientsFixedMs, drop: () => scratch.drop() };
}

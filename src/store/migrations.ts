/**
 * Schema migrations, applied in order by Kysely's Migrator (`mailroom migrate`, or `serve` at start). Never change what
 * a shipped migration does: add a new one at the END of MIGRATIONS. Each runs on SQLite and on Postgres: ids are
 * autoincrement on SQLite and identity columns on Postgres (see id below), epoch-millisecond columns are bigint on
 * Postgres, and timestamps stay ISO-8601 text in both, so ordering and comparisons are the same everywhere.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { epochMsType, idColumn, isPostgres } from './dialect.ts';
import { relayQuotasMigration } from './relay-quota-store.ts';
import { sendClaimsMigration } from './send-claims-store.ts';
import { relayRatesMigration } from './relay-rate-store.ts';
import { dropRedundantSendsStatusIndex } from './sends-index-migration.ts';
import { leaderLeasesMigration } from './leader-store.ts';
import { accountsMigration } from './account-store.ts';
import { subscriberNameIndexMigration } from './api-queries.ts';
import { deliverabilityMigration } from './deliverability-store.ts';
import { webhooksMigration } from './webhook-store.ts';
import { welcomeMigration } from './welcome-store.ts';
import { trackingMigration, trackingPeopleMigration } from './tracking-store.ts';

const id = idColumn;

/** Runs `fn` in a transaction: Kysely runs Postgres migrations in one already (transactional DDL); SQLite's need their own. */
async function inTransaction(db: Kysely<unknown>, fn: (trx: Kysely<unknown>) => Promise<void>): Promise<void> {
  if (db.isTransaction) await fn(db);
  else await db.transaction().execute(fn);
}

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('articles')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('slug', 'text', (c) => c.notNull().unique())
      .addColumn('canonical_url', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('published_at', 'text', (c) => c.notNull())
      .addColumn('lead_image_url', 'text')
      .addColumn('lead_image_alt', 'text')
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await sql`CREATE UNIQUE INDEX articles_canonical_url ON articles (canonical_url) WHERE canonical_url <> ''`.execute(db);
    await db.schema.createIndex('articles_published_at').on('articles').column('published_at').execute();

    await db.schema
      .createTable('lists')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('subscribers')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('first_name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('last_name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('active','unsubscribed','bounced','complained')`))
      .addColumn('consent_source', 'text', (c) => c.notNull())
      .addColumn('consent_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('list_memberships')
      .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id').onDelete('cascade'))
      .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('subscribed','unsubscribed')`))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('list_memberships_pk', ['list_id', 'subscriber_id'])
      .execute();
    await db.schema.createIndex('list_memberships_subscriber').on('list_memberships').column('subscriber_id').execute();

    await db.schema
      .createTable('suppressions')
      .addColumn('email_hash', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.unique())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('newsletters')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('slug', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('from_name', 'text', (c) => c.notNull())
      .addColumn('from_email', 'text', (c) => c.notNull())
      .addColumn('reply_to', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id'))
      .addColumn('template', 'text', (c) => c.notNull())
      .addColumn('postal_address', 'text', (c) => c.notNull())
      .addColumn('logo_url', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('subject_template', 'text', (c) => c.notNull())
      .addColumn('max_articles', 'integer', (c) => c.notNull())
      .addColumn('language', 'text', (c) => c.notNull().defaultTo('en'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('issues')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('newsletter_id', 'integer', (c) => c.notNull().references('newsletters.id'))
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('preheader', 'text', (c) => c.notNull())
      .addColumn('html', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('issues_newsletter_number', ['newsletter_id', 'number'])
      .execute();

    await db.schema
      .createTable('issue_articles')
      .addColumn('issue_id', 'integer', (c) => c.notNull().references('issues.id').onDelete('cascade'))
      .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('issue_articles_pk', ['issue_id', 'article_id'])
      .execute();

    await db.schema
      .createTable('campaigns')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('issue_id', 'integer', (c) => c.notNull().references('issues.id'))
      .addColumn('newsletter_id', 'integer', (c) => c.notNull().references('newsletters.id'))
      .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('scheduled','sending','sent','failed','paused','cancelled')`))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('scheduled_at', 'text')
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('last_error', 'text')
      // Who runs the campaign now: one process at a time holds a lease it renews while sending.
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'text')
      // Why a paused campaign is paused: 'operator' (waits for resume) or 'smtp' (resumes by itself at resume_after).
      .addColumn('pause_reason', 'text')
      .addColumn('resume_after', 'text')
      .execute();

    await db.schema
      .createTable('sends')
      .addColumn('campaign_id', 'integer', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
      .addColumn('subscriber_id', 'integer', (c) => c.notNull())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('pending','sending','deferred','sent','failed','skipped')`))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text')
      .addColumn('smtp_response', 'text')
      .addColumn('message_id', 'text')
      .addColumn('error', 'text')
      // Set when the row was in flight at a crash: the message may have gone out twice.
      .addColumn('possible_duplicate', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('first_attempt_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sends_pk', ['campaign_id', 'subscriber_id'])
      .execute();
    await db.schema.createIndex('sends_status').on('sends').columns(['campaign_id', 'status']).execute();
  },
};

const schedules: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('newsletter_schedules')
      .addColumn('newsletter_id', 'integer', (c) => c.primaryKey().references('newsletters.id').onDelete('cascade'))
      .addColumn('cron', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('empty_policy', 'text', (c) => c.notNull().check(sql`empty_policy IN ('skip','send')`))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      // Slots up to this instant have been looked at; the next tick starts after it.
      .addColumn('checked_until', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('schedule_slots')
      .addColumn('newsletter_id', 'integer', (c) => c.notNull().references('newsletters.id').onDelete('cascade'))
      .addColumn('slot_at', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome IN ('campaign','skipped-empty','skipped-missed')`))
      .addColumn('campaign_id', 'integer', (c) => c.references('campaigns.id'))
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      // The unique key that makes a slot create exactly one campaign, across restarts and processes.
      .addPrimaryKeyConstraint('schedule_slots_pk', ['newsletter_id', 'slot_at'])
      .execute();
  },
};

/**
 * Sign-up with double opt-in, preferences, archive and privacy (issue 4). SQLite cannot alter a CHECK constraint, so
 * list_memberships is rebuilt (create, copy, drop, rename) to accept 'pending' and carry the consent record per list.
 */
const signup: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await inTransaction(db, async (trx) => {
      if (isPostgres(trx)) {
        // Postgres alters a CHECK constraint in place (a rebuilt table's primary key would collide by name).
        await sql`ALTER TABLE list_memberships DROP CONSTRAINT list_memberships_status_check`.execute(trx);
        await sql`ALTER TABLE list_memberships ADD CONSTRAINT list_memberships_status_check CHECK (status IN ('pending','subscribed','unsubscribed'))`.execute(trx);
        for (const column of ["consent_source text NOT NULL DEFAULT ''", 'consent_at text', 'consent_ip text', 'confirmed_at text', 'confirmed_ip text', 'confirmation_sent_at text', 'unsubscribed_at text']) {
          await sql`ALTER TABLE list_memberships ADD COLUMN ${sql.raw(column)}`.execute(trx);
        }
        await sql`UPDATE list_memberships m SET consent_source = s.consent_source, consent_at = s.consent_at,
          unsubscribed_at = CASE WHEN m.status = 'unsubscribed' THEN m.updated_at END
          FROM subscribers s WHERE s.id = m.subscriber_id`.execute(trx);
      } else {
      await sql`CREATE TABLE list_memberships_0003 (
        list_id integer NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
        subscriber_id integer NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('pending','subscribed','unsubscribed')),
        created_at text NOT NULL,
        updated_at text NOT NULL,
        consent_source text NOT NULL DEFAULT '',
        consent_at text,
        consent_ip text,
        confirmed_at text,
        confirmed_ip text,
        confirmation_sent_at text,
        unsubscribed_at text,
        CONSTRAINT list_memberships_pk PRIMARY KEY (list_id, subscriber_id)
      )`.execute(trx);
      await sql`INSERT INTO list_memberships_0003 (list_id, subscriber_id, status, created_at, updated_at, consent_source, consent_at, unsubscribed_at)
        SELECT m.list_id, m.subscriber_id, m.status, m.created_at, m.updated_at, s.consent_source, s.consent_at,
               CASE WHEN m.status = 'unsubscribed' THEN m.updated_at END
        FROM list_memberships m JOIN subscribers s ON s.id = m.subscriber_id`.execute(trx);
      await sql`DROP TABLE list_memberships`.execute(trx);
      await sql`ALTER TABLE list_memberships_0003 RENAME TO list_memberships`.execute(trx);
      await sql`CREATE INDEX list_memberships_subscriber ON list_memberships (subscriber_id)`.execute(trx);
      }
      await sql`CREATE INDEX list_memberships_pending ON list_memberships (status, confirmation_sent_at) WHERE status = 'pending'`.execute(trx);

      // A list's hosted sign-up page and form can be closed; a newsletter's public archive index and feed can be turned off.
      await sql`ALTER TABLE lists ADD COLUMN signup_open integer NOT NULL DEFAULT 1`.execute(trx);
      await sql`ALTER TABLE newsletters ADD COLUMN archive_public integer NOT NULL DEFAULT 1`.execute(trx);

      // Sliding-window counters shared by every process: sign-ups per client IP, confirmation emails per address.
      await sql`CREATE TABLE rate_limit_hits (
        bucket text NOT NULL,
        key text NOT NULL,
        at ${sql.raw(epochMsType(trx))} NOT NULL
      )`.execute(trx);
      await sql`CREATE INDEX rate_limit_hits_key ON rate_limit_hits (bucket, key, at)`.execute(trx);
      await sql`CREATE INDEX rate_limit_hits_at ON rate_limit_hits (at)`.execute(trx);
    });
  },
};

/**
 * Feeds (issue 5): RSS and Atom feeds that feed a newsletter, and the items seen in each, keyed by guid, then by URL.
 * An item's `first_seen_at` is when it arrived: a feed-fed newsletter's issue carries what arrived since its last sent issue.
 */
const feeds: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('feeds')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('newsletter_id', 'integer', (c) => c.notNull().references('newsletters.id').onDelete('cascade'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('site_url', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('full_content', 'text', (c) => c.notNull().defaultTo('auto').check(sql`full_content IN ('auto','feed','page')`))
      .addColumn('etag', 'text')
      .addColumn('last_modified', 'text')
      .addColumn('last_polled_at', 'text')
      .addColumn('last_success_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('feeds_newsletter_url', ['newsletter_id', 'url'])
      .execute();
    await db.schema
      .createTable('feed_items')
      .addColumn('id', 'integer', (c) => id(db, c))
      .addColumn('feed_id', 'integer', (c) => c.notNull().references('feeds.id').onDelete('cascade'))
      .addColumn('guid', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('url', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
      .addColumn('content_hash', 'text', (c) => c.notNull())
      .addColumn('first_seen_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await sql`CREATE UNIQUE INDEX feed_items_guid ON feed_items (feed_id, guid) WHERE guid <> ''`.execute(db);
    await db.schema.createIndex('feed_items_url').on('feed_items').columns(['feed_id', 'url']).execute();
    await db.schema.createIndex('feed_items_article').on('feed_items').column('article_id').execute();
    await db.schema.createIndex('feed_items_arrival').on('feed_items').columns(['feed_id', 'first_seen_at']).execute();
  },
};

/**
 * Nobody receives the same issue twice (issue 10): a later campaign of an issue leaves out whoever received it in an
 * earlier one, unless it was created to send it again on purpose (`send --resend` or `--force`), which this records
 * so that its scheduled start and its retries follow the same choice.
 */
const campaignResend: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`ALTER TABLE campaigns ADD COLUMN resend integer NOT NULL DEFAULT 0`.execute(db);
    // Who already has an issue: the campaigns of that issue, then each one's send row by its primary key.
    await sql`CREATE INDEX campaigns_issue ON campaigns (issue_id)`.execute(db);
  },
};

/**
 * Articles belong to newsletters (issue 10): before, every newsletter took every article, so one newsletter's
 * articles (the demo's included) went out in another. A newsletter now takes its feeds' items, the articles assigned
 * to it (`articles import --newsletter`, `articles assign`, an issue that carried them) and those with a tag it selects.
 *
 * What existing articles become, so that nothing is lost: an article an issue of a newsletter carried belongs to that
 * newsletter (since the first such issue); in a database with one newsletter, every article belongs to it, since it
 * took every article until now; anything else stays unassigned, and `issue build` says how to assign it (which of
 * several newsletters an article was meant for cannot be told). Feed items need no row: their feed says.
 */
const newsletterArticles: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await inTransaction(db, async (trx) => {
      await sql`CREATE TABLE newsletter_articles (
        newsletter_id integer NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
        article_id integer NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        excluded integer NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
        source text NOT NULL,
        added_at text NOT NULL,
        CONSTRAINT newsletter_articles_pk PRIMARY KEY (newsletter_id, article_id)
      )`.execute(trx);
      await sql`CREATE INDEX newsletter_articles_article ON newsletter_articles (article_id)`.execute(trx);
      await sql`CREATE TABLE newsletter_tags (
        newsletter_id integer NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
        tag text NOT NULL,
        CONSTRAINT newsletter_tags_pk PRIMARY KEY (newsletter_id, tag)
      )`.execute(trx);
      await sql`INSERT INTO newsletter_articles (newsletter_id, article_id, excluded, source, added_at)
        SELECT issues.newsletter_id, issue_articles.article_id, 0, 'migration', min(issues.created_at)
        FROM issue_articles INNER JOIN issues ON issues.id = issue_articles.issue_id
        GROUP BY issues.newsletter_id, issue_articles.article_id`.execute(trx);
      await sql`INSERT INTO newsletter_articles (newsletter_id, article_id, excluded, source, added_at)
        SELECT newsletters.id, articles.id, 0, 'migration', articles.created_at
        FROM articles CROSS JOIN newsletters
        WHERE (SELECT count(*) FROM newsletters) = 1
        ON CONFLICT DO NOTHING`.execute(trx);
    });
  },
};

/**
 * A scheduled slot whose issue could not be built is recorded as 'failed' with the reason, and can be retried
 * (issue 10). SQLite cannot alter a CHECK constraint, so schedule_slots is rebuilt (create, copy, drop, rename).
 */
const slotFailed: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await inTransaction(db, async (trx) => {
      if (isPostgres(trx)) {
        await sql`ALTER TABLE schedule_slots DROP CONSTRAINT schedule_slots_outcome_check`.execute(trx);
        await sql`ALTER TABLE schedule_slots ADD CONSTRAINT schedule_slots_outcome_check CHECK (outcome IN ('campaign','skipped-empty','skipped-missed','failed'))`.execute(trx);
      } else {
      await sql`CREATE TABLE schedule_slots_0005 (
        newsletter_id integer NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
        slot_at text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('campaign','skipped-empty','skipped-missed','failed')),
        campaign_id integer REFERENCES campaigns (id),
        detail text NOT NULL DEFAULT '',
        created_at text NOT NULL,
        CONSTRAINT schedule_slots_pk PRIMARY KEY (newsletter_id, slot_at)
      )`.execute(trx);
      await sql`INSERT INTO schedule_slots_0005 (newsletter_id, slot_at, outcome, campaign_id, detail, created_at)
        SELECT newsletter_id, slot_at, outcome, campaign_id, detail, created_at FROM schedule_slots`.execute(trx);
      await sql`DROP TABLE schedule_slots`.execute(trx);
      await sql`ALTER TABLE schedule_slots_0005 RENAME TO schedule_slots`.execute(trx);
      }
      await sql`CREATE INDEX schedule_slots_failed ON schedule_slots (created_at) WHERE outcome = 'failed'`.execute(trx);
    });
  },
};

/**
 * An issue's preheader is a Handlebars source now, like its subject (issue 10). Before, it was always shown as text,
 * so every stored one becomes the source that prints that text: a literal `{{` in it stays literal.
 */
const preheaderSource: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await inTransaction(db, async (trx) => {
      // (Postgres text cannot hold a NUL character at all.)
      const rows = isPostgres(trx)
        ? await sql<{ id: number; preheader: string }>`SELECT id, preheader FROM issues WHERE strpos(preheader, '{{') > 0`.execute(trx)
        : await sql<{ id: number; preheader: string }>`SELECT id, preheader FROM issues WHERE instr(preheader, '{{') > 0 OR instr(preheader, char(0)) > 0`.execute(trx);
      for (const row of rows.rows) await sql`UPDATE issues SET preheader = ${preheaderAsSource(row.preheader)} WHERE id = ${row.id}`.execute(trx);
    });
  },
};

/**
 * The source that prints `text`, as `literalSource` (src/personalization/template-source.ts) wrote it when this
 * migration was made, frozen here: a migration must do the same thing on every database whenever it runs, whatever
 * the application's code becomes. tests/migrations-frozen.test.ts checks that the two still agree; if the escaping
 * changes, that test fails and stored sources need a migration of their own.
 */
export function preheaderAsSource(raw: string): string {
  const text = raw.replaceAll('\0', '\uFFFD');
  let out = '';
  let from = 0;
  for (let at = text.indexOf('{{'); at !== -1; at = text.indexOf('{{', from)) {
    out += text.slice(from, at);
    if (out.endsWith('\\')) out += ' {{~!}}';
    out += '\\{{';
    from = at + 2;
  }
  return out + text.slice(from);
}

/**
 * Postgres only: the two SQLite JSON functions the article queries use (article-queries.ts reads an article's tags,
 * a JSON array in a text column), so that those queries stay one copy. No-op on SQLite, which has them built in.
 */
const postgresJsonFunctions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (!isPostgres(db)) return;
    await sql`CREATE OR REPLACE FUNCTION json_valid(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
      BEGIN
        PERFORM t::jsonb;
        RETURN true;
      EXCEPTION WHEN others THEN
        RETURN false;
      END $$`.execute(db);
    await sql`CREATE OR REPLACE FUNCTION json_each(t text) RETURNS TABLE (value text) LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE jsonb_typeof(t::jsonb) WHEN 'array' THEN e ELSE NULL END
      FROM jsonb_array_elements_text(CASE jsonb_typeof(t::jsonb) WHEN 'array' THEN t::jsonb ELSE '[]'::jsonb END) AS e $$`.execute(db);
  },
};

/**
 * Postgres only: the due rows of a campaign in subscriber order straight from an index (listDueRecipients). SQLite
 * walks its (campaign_id, status) index in rowid order instead, without the cost of one more index per send row.
 */
const postgresSendsDue: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (!isPostgres(db)) return;
    await sql`CREATE INDEX sends_due ON sends (campaign_id, status, subscriber_id)`.execute(db);
  },
};

/** Why the relay stopped a campaign paused for SMTP, as the transport knew it (the overview no longer reads it from the error's wording). */
const campaignRelayFault: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`ALTER TABLE campaigns ADD COLUMN relay_fault text CHECK (relay_fault IN ('refusing-logins','unreachable','failing'))`.execute(db);
  },
};

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
  '0002_feeds': feeds,
  '0003_signup': signup,
  '0004_schedules': schedules,
  '2026-12-04-preheader-source': preheaderSource,
  '2026-12-04-relay-quotas': relayQuotasMigration,
  '2026-12-04-slot-failed': slotFailed,
  '2026-12-05-campaign-resend': campaignResend,
  '2026-12-05-newsletter-articles': newsletterArticles,
  '2026-12-04-deliv-bounces': deliverabilityMigration,
  '2026-12-04-deliv-webhooks': webhooksMigration,
  '2026-12-04-deliv-welcome': welcomeMigration,
  '2026-12-04-deliv-tracking': trackingMigration,
  '2026-12-04-api-accounts': accountsMigration,
  '2026-12-04-api-subscriber-name': subscriberNameIndexMigration,
  '2026-12-05-pg11-postgres-json-functions': postgresJsonFunctions,
  '2026-12-05-pg11-leader-leases': leaderLeasesMigration,
  '2026-12-05-pg11-postgres-sends-due': postgresSendsDue,
  '2026-12-04-deliv2-tracking-people': trackingPeopleMigration,
  '2026-12-06-workers-send-claims': sendClaimsMigration,
  '2026-12-06-workers-relay-rates': relayRatesMigration,
  '2026-12-07-workers-drop-sends-status': dropRedundantSendsStatusIndex,
  '2026-12-08-campaign-relay-fault': campaignRelayFault,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};

/** Schema migrations, applied in order by Kysely's Migrator on every open. Never edit a shipped migration: add a new one. */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('articles')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('subscribers')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('issue_id', 'integer', (c) => c.notNull().references('issues.id'))
      .addColumn('newsletter_id', 'integer', (c) => c.notNull().references('newsletters.id'))
      .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('sending','sent','failed','paused','cancelled')`))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('last_error', 'text')
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
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sends_pk', ['campaign_id', 'subscriber_id'])
      .execute();
    await db.schema.createIndex('sends_status').on('sends').columns(['campaign_id', 'status']).execute();
  },
};

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};

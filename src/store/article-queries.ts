/**
 * Query pieces about articles shared by the stores: which articles belong to a newsletter, and which a campaign of it
 * has carried already. Both apply to the `articles` table of the enclosing query (not aliased).
 */
import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** A where-clause: the article is in no issue of this newsletter that a campaign has sent (or is sending). */
export function notCarriedByNewsletter(newsletterId: number) {
  return ({ not, exists, selectFrom }: ExpressionBuilder<Database, 'articles'>) =>
    not(
      exists(
        selectFrom('issue_articles')
          .innerJoin('issues', 'issues.id', 'issue_articles.issue_id')
          .innerJoin('campaigns', 'campaigns.issue_id', 'issues.id')
          .select(sql<number>`1`.as('one'))
          .whereRef('issue_articles.article_id', '=', 'articles.id')
          .where('issues.newsletter_id', '=', newsletterId),
      ),
    );
}

/**
 * A where-clause: the article belongs to the newsletter (a number, or a column such as `newsletters.id`). It does when
 * it is assigned to it (imported for it, `articles assign`, carried by one of its issues), when one of the
 * newsletter's feeds brought it, or when it carries a tag the newsletter selects; but never once it was taken out of
 * the newsletter (`articles unassign`), whatever its feed or tags say.
 *
 * With `arrivedAfter`, only articles that came to belong after that instant: assigned then, arrived in a feed then, or
 * (by a tag) imported then. That is what a feed-fed newsletter's next issue carries.
 */
export function belongsToNewsletter(newsletter: number | 'newsletters.id', arrivedAfter: string | null = null) {
  const id = typeof newsletter === 'number' ? sql`${newsletter}` : sql.ref(newsletter);
  const since = (column: string) => (arrivedAfter === null ? sql`` : sql` AND ${sql.ref(column)} > ${arrivedAfter}`);
  return sql<boolean>`(
    EXISTS (SELECT 1 FROM newsletter_articles AS na
      WHERE na.newsletter_id = ${id} AND na.article_id = articles.id AND na.excluded = 0${since('na.added_at')})
    OR (
      NOT EXISTS (SELECT 1 FROM newsletter_articles AS nx WHERE nx.newsletter_id = ${id} AND nx.article_id = articles.id AND nx.excluded = 1)
      AND (
        EXISTS (SELECT 1 FROM feed_items AS fi INNER JOIN feeds AS fd ON fd.id = fi.feed_id
          WHERE fd.newsletter_id = ${id} AND fi.article_id = articles.id${since('fi.first_seen_at')})
        OR EXISTS (SELECT 1 FROM newsletter_tags AS nt, json_each(CASE WHEN json_valid(articles.tags) THEN articles.tags ELSE '[]' END) AS article_tag
          WHERE nt.newsletter_id = ${id} AND nt.tag = lower(article_tag.value)${since('articles.created_at')})
      )
    )
  )`;
}

/** A where-clause: the article belongs to no newsletter at all (see belongsToNewsletter). */
export function belongsToNoNewsletter() {
  return sql<boolean>`NOT EXISTS (SELECT 1 FROM newsletters WHERE ${belongsToNewsletter('newsletters.id')})`;
}

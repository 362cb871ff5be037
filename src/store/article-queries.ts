/** Query pieces about articles shared by the stores: "not yet carried by a campaign of this newsletter". */
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

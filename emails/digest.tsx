/** The digest template: a greeting, the lead article in full (or a long excerpt), then a card per other article. */

import { Heading, Text } from '@react-email/components';
import { previewDigestProps, withPreviewProps } from './_preview/preview-props.ts';
import { CtaButton } from './components/button.tsx';
import { EmailImage, EmailLink, emailOnly } from './components/elements.tsx';
import { Layout, Panel, formatEmailDate, mutedStyle, textStyle } from './components/layout.tsx';
import { Markdown, countWords, excerptMarkdown } from './components/markdown.tsx';
import { classNames, colors, fontSizes, fonts, layout, lineHeights, spacing } from './theme.ts';
import type { DigestEmailProps, EmailArticle } from './types.ts';

export type { DigestEmailProps };

/** A lead article longer than this is cut to an excerpt with a "Continue reading" button. */
const FULL_BODY_MAX_WORDS = 1500;
/** About how many words the excerpt of a long lead article keeps. */
const EXCERPT_WORDS = 400;

function articleByline(article: EmailArticle, language: string): string {
  const date = formatEmailDate(article.publishedAt, language);
  return article.author.trim() === '' ? date : `By ${article.author} · ${date}`;
}

/**
 * The article's image, linked to the article when its alt text can name the link; an image without alt text is
 * decorative and stays unlinked (an image-only link needs a text). Left out of the text part: the title link follows.
 */
function renderArticleImage(article: EmailArticle) {
  if (article.leadImage === null) return null;
  const image = (
    <EmailImage
      src={article.leadImage.url}
      alt={article.leadImage.alt}
      width={layout.contentWidth}
      data-skip-in-text="true"
      style={{
        width: '100%',
        maxWidth: '100%',
        height: 'auto',
        borderRadius: layout.borderRadius,
        marginBottom: spacing.md,
      }}
    />
  );
  if (article.leadImage.alt.trim() === '') return image;
  return (
    <EmailLink href={article.url} data-skip-in-text="true" style={{ display: 'block' }}>
      {image}
    </EmailLink>
  );
}

function LeadArticle({ article, language }: { readonly article: EmailArticle; readonly language: string }) {
  const isLong = countWords(article.body) > FULL_BODY_MAX_WORDS;
  const body = isLong ? excerptMarkdown(article.body, EXCERPT_WORDS) : article.body;
  return (
    <Panel paddingY={spacing.sm}>
      {renderArticleImage(article)}
      <Heading
        as="h1"
        className={`${classNames.text} ${classNames.title}`}
        style={{
          color: colors.text,
          fontFamily: fonts.heading,
          fontSize: fontSizes.h1,
          lineHeight: lineHeights.heading,
          fontWeight: 700,
          margin: `0 0 ${spacing.sm}px`,
        }}
      >
        <EmailLink href={article.url} className={classNames.text} style={{ color: colors.text, textDecoration: 'none' }}>
          {article.title}
        </EmailLink>
      </Heading>
      <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.lg }}>
        {articleByline(article, language)}
      </Text>
      <Markdown markdown={body} baseUrl={article.url} />
      {isLong ? (
        <Text style={{ ...textStyle, margin: `${spacing.sm}px 0 ${spacing.md}px` }}>
          <CtaButton href={article.url}>Continue reading</CtaButton>
        </Text>
      ) : null}
    </Panel>
  );
}

/**
 * The card button's label names its article, so a screen reader's list of links tells the cards apart (four times
 * "Read more" says nothing). Visible text, because email clients support aria-label unevenly.
 */
export function readMoreLabel(title: string): string {
  return `Read \u201c${title}\u201d`;
}

function ArticleCard({ article, language }: { readonly article: EmailArticle; readonly language: string }) {
  return (
    <Panel paddingY={spacing.lg} borderTop>
      {renderArticleImage(article)}
      <Heading
        as="h2"
        className={classNames.text}
        style={{
          color: colors.text,
          fontFamily: fonts.heading,
          fontSize: fontSizes.h2,
          lineHeight: lineHeights.heading,
          fontWeight: 700,
          margin: `0 0 ${spacing.xs}px`,
        }}
      >
        <EmailLink href={article.url} className={classNames.text} style={{ color: colors.text, textDecoration: 'none' }}>
          {article.title}
        </EmailLink>
      </Heading>
      <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.sm }}>
        {articleByline(article, language)}
      </Text>
      <Text className={classNames.text} style={textStyle}>
        {article.summary}
      </Text>
      <Text style={{ ...textStyle, margin: 0 }}>
        <CtaButton href={article.url}>{readMoreLabel(article.title)}</CtaButton>
      </Text>
    </Panel>
  );
}

function DigestEmail({ brand, issue, lead, others, recipient }: DigestEmailProps) {
  return (
    <Layout brand={brand} issue={issue} recipient={recipient}>
      <Panel paddingY={spacing.lg}>
        <Text
          className={classNames.text}
          style={{ ...textStyle, fontSize: fontSizes.lead, margin: `0 0 ${spacing.sm}px` }}
          {...emailOnly}
        >
          {`Hi ${recipient.firstName},`}
        </Text>
        <Text className={classNames.text} style={{ ...textStyle, margin: 0 }}>
          {others.length > 0
            ? `Here is issue #${issue.number} of ${brand.name}: one story in full, then ${others.length} more worth your time.`
            : `Here is issue #${issue.number} of ${brand.name}.`}
        </Text>
      </Panel>
      <LeadArticle article={lead} language={brand.language} />
      {others.length > 0 ? (
        <Panel paddingY={spacing.md} borderTop>
          <Heading
            as="h2"
            className={classNames.muted}
            style={{
              color: colors.muted,
              fontFamily: fonts.heading,
              fontSize: 14,
              lineHeight: '20px',
              fontWeight: 700,
              letterSpacing: '0.06em',
              margin: 0,
            }}
          >
            More in this issue
          </Heading>
        </Panel>
      ) : null}
      {others.map((article, index) => (
        <ArticleCard key={`${index}-${article.url}`} article={article} language={brand.language} />
      ))}
    </Layout>
  );
}

export default withPreviewProps(DigestEmail, previewDigestProps);

/** The single-article template: one article in full, with its lead image, byline and tags. */

import { Heading, Text } from '@react-email/components';
import { previewArticleProps, withPreviewProps } from './_preview/preview-props.ts';
import { CtaButton } from './components/button.tsx';
import { EmailImage } from './components/elements.tsx';
import { Layout, Panel, formatEmailDate, mutedStyle, textStyle } from './components/layout.tsx';
import { Markdown } from './components/markdown.tsx';
import { classNames, colors, fontSizes, fonts, layout, lineHeights, spacing } from './theme.ts';
import type { ArticleEmailProps } from './types.ts';

export type { ArticleEmailProps };

function ArticleEmail({ brand, issue, article, recipient }: ArticleEmailProps) {
  const date = formatEmailDate(article.publishedAt, brand.language);
  const byline = article.author.trim() === '' ? date : `By ${article.author} · ${date}`;
  return (
    <Layout brand={brand} issue={issue} recipient={recipient}>
      <Panel paddingY={spacing.lg}>
        {article.leadImage !== null ? (
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
              marginBottom: spacing.lg,
            }}
          />
        ) : null}
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
          {article.title}
        </Heading>
        <Text
          className={classNames.muted}
          style={{ ...mutedStyle, marginBottom: article.tags.length > 0 ? spacing.xs : spacing.lg }}
        >
          {byline}
        </Text>
        {article.tags.length > 0 ? (
          <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.lg }}>
            {article.tags.map((tag) => `#${tag}`).join('  ')}
          </Text>
        ) : null}
        <Markdown markdown={article.body} baseUrl={article.url} />
        <Text style={{ ...textStyle, margin: `${spacing.md}px 0 0` }}>
          <CtaButton href={article.url}>Read it on the web</CtaButton>
        </Text>
      </Panel>
    </Layout>
  );
}

export default withPreviewProps(ArticleEmail, previewArticleProps);

/** The digest template: a greeting, the lead article in full (or a long excerpt), then a card per other article. */

import { Heading, Img, Link, Text } from '@react-email/components';
import { CtaButton } from './components/button.tsx';
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
    <Img
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
    <Link href={article.url} data-skip-in-text="true" style={{ display: 'block' }}>
      {image}
    </Link>
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
        <Link href={article.url} className={classNames.text} style={{ color: colors.text, textDecoration: 'none' }}>
          {article.title}
        </Link>
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
        <Link href={article.url} className={classNames.text} style={{ color: colors.text, textDecoration: 'none' }}>
          {article.title}
        </Link>
      </Heading>
      <Text className={classNames.muted} style={{ ...mutedStyle, marginBottom: spacing.sm }}>
        {articleByline(article, language)}
      </Text>
      <Text className={classNames.text} style={textStyle}>
        {article.summary}
      </Text>
      <Text style={{ ...textStyle, margin: 0 }}>
        <CtaButton href={article.url}>Read more</CtaButton>
      </Text>
    </Panel>
  );
}

export default function DigestEmail({ brand, issue, lead, others, recipient }: DigestEmailProps) {
  return (
    <Layout brand={brand} issue={issue} recipient={recipient}>
      <Panel paddingY={spacing.lg}>
        <Text
          className={classNames.text}
          style={{ ...textStyle, fontSize: fontSizes.lead, margin: `0 0 ${spacing.sm}px` }}
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

DigestEmail.PreviewProps = {
  brand: {
    name: 'Mailroom Weekly',
    logoUrl: '',
    postalAddress: 'Mailroom Weekly\n548 Market St #12345\nSan Francisco, CA 94104\nUSA',
    websiteUrl: 'https://news.example.com',
    language: 'en',
  },
  issue: {
    subject: 'Mailroom Weekly #42: the quiet death of the open rate',
    preheader: 'Why open tracking stopped meaning much, plus plain-text parts, one-click unsubscribe and dark mode.',
    number: 42,
    date: '2025-11-20T09:00:00.000Z',
  },
  lead: {
    title: 'The quiet death of the open rate',
    summary:
      'Apple Mail Privacy Protection preloads every image, so an "open" now mostly means "delivered to an iPhone". What to measure instead.',
    body: [
      'For fifteen years the open rate was the number every newsletter dashboard led with. It was always a proxy: a tiny',
      "transparent image, fetched when the reader's client displayed the message. Since Apple shipped **Mail Privacy",
      'Protection**, that proxy has quietly stopped working.',
      '',
      '## What changed',
      '',
      'Apple Mail now fetches remote images through a proxy as soon as a message arrives, whether or not anyone looks at it.',
      'Gmail has cached images for years. The result is that a large share of "opens" are machines, not people.',
      '',
      '- Opens from Apple Mail are inflated to nearly 100%.',
      '- Opens from corporate filters that scan links and images look like *instant* engagement.',
      '- Real readers on text-only or image-blocking clients never register at all.',
      '',
      "> An open rate today tells you more about your audience's choice of phone than about your writing.",
      '',
      '## What to measure instead',
      '',
      '1. **Clicks**, deduplicated per recipient and filtered for scanner bursts.',
      '2. **Replies**, the strongest signal a newsletter can get.',
      '3. **Unsubscribes and complaints** per issue, which tell you when you got it wrong.',
      '',
      'If you send with Mailroom, tracking pixels are off by default. We think that is the honest choice; you can read',
      'more in [our privacy notes](https://news.example.com/privacy) or the [Apple announcement](https://www.apple.com/newsroom/).',
      '',
      '![A chart of open rates jumping after September 2021](https://placehold.co/1104x560/png?text=Open+rate+2019-2025)',
      '',
      'A last tip: the `List-Unsubscribe-Post` header makes one-click unsubscribe work in Gmail and Yahoo, and both now',
      'require it for bulk senders.',
    ].join('\n'),
    url: 'https://news.example.com/2025/11/the-quiet-death-of-the-open-rate',
    author: 'Grace Hopper',
    publishedAt: '2025-11-18T14:30:00.000Z',
    leadImage: {
      url: 'https://placehold.co/1200x630/png?text=The+open+rate',
      alt: 'An envelope with an eye crossed out',
    },
    tags: ['deliverability', 'analytics'],
  },
  others: [
    {
      title: 'Plain-text parts are not optional',
      summary:
        'Spam filters, screen readers and smartwatches all read the text/plain part. Here is how to make yours as good as the HTML.',
      body: 'Every multipart email should carry a plain-text alternative that reads well on its own.',
      url: 'https://news.example.com/2025/11/plain-text-parts',
      author: 'Katherine Johnson',
      publishedAt: '2025-11-14T10:00:00.000Z',
      leadImage: null,
      tags: ['html-email'],
    },
    {
      title: 'One-click unsubscribe, explained',
      summary:
        'RFC 8058 in five minutes: the two headers Gmail and Yahoo now require, what the POST request looks like, and why it must not need a login.',
      body: 'Since February 2024, bulk senders must support one-click unsubscribe.',
      url: 'https://news.example.com/2025/11/one-click-unsubscribe',
      author: 'Radia Perlman',
      publishedAt: '2025-11-12T08:15:00.000Z',
      leadImage: {
        url: 'https://placehold.co/1200x500/png?text=Unsubscribe',
        alt: 'An unsubscribe button next to an inbox',
      },
      tags: ['compliance'],
    },
    {
      title: 'Designing emails for dark mode',
      summary:
        'Some clients invert your colors, some respect prefers-color-scheme, and some do both badly. A field guide to staying readable.',
      body: 'Dark mode support in email clients falls into three camps.',
      url: 'https://news.example.com/2025/11/dark-mode-emails',
      author: 'Margaret Hamilton',
      publishedAt: '2025-11-10T16:45:00.000Z',
      leadImage: null,
      tags: ['design'],
    },
  ],
  recipient: {
    firstName: 'Ada',
    lastName: 'Lovelace',
    fullName: 'Ada Lovelace',
    email: 'ada@example.com',
    unsubscribeUrl: 'https://news.example.com/u/preview',
    preferencesUrl: 'https://news.example.com/preferences/preview',
    webVersionUrl: 'https://news.example.com/issues/42',
  },
} satisfies DigestEmailProps;

/**
 * The sample issue the templates preview with when no real issue was exported (see latest-issue.ts): shipped images
 * only (nothing loads from the network) and dates relative to today, so the preview never looks frozen in time.
 */

import type { EmailArticle, EmailBrand, EmailIssueInfo, RecipientPlaceholders } from '../types.ts';
import { previewImage } from './media.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** An ISO timestamp `days` before `now`, at `hour`:00 UTC. */
function daysAgo(now: Date, days: number, hour: number): string {
  const date = new Date(now.getTime() - days * DAY_MS);
  date.setUTCHours(hour, 0, 0, 0);
  return date.toISOString();
}

export interface SampleIssue {
  readonly brand: EmailBrand;
  readonly issue: EmailIssueInfo;
  /** Lead first. */
  readonly articles: readonly EmailArticle[];
}

export const SAMPLE_WEBSITE = 'https://news.example.com';

export function sampleBrand(): EmailBrand {
  return {
    name: 'Mailroom Weekly',
    logoUrl: previewImage('logo.png'),
    postalAddress: 'Mailroom Weekly\n548 Market St #12345\nSan Francisco, CA 94104\nUSA',
    websiteUrl: SAMPLE_WEBSITE,
    language: 'en',
  };
}

/** The reader a preview is filled in for. */
export function sampleRecipient(issueNumber: number): RecipientPlaceholders {
  return {
    firstName: 'Ada',
    lastName: 'Lovelace',
    fullName: 'Ada Lovelace',
    email: 'ada@example.com',
    unsubscribeUrl: `${SAMPLE_WEBSITE}/u/preview`,
    preferencesUrl: `${SAMPLE_WEBSITE}/p/preview`,
    webVersionUrl: `${SAMPLE_WEBSITE}/issues/weekly/${issueNumber}`,
  };
}

/**
 * A digest issue: a lead article with most kinds of Markdown, then three cards (two with images). Images in the
 * Markdown itself resolve against the article's web address, so the sample keeps its images out of the body.
 */
export function sampleDigestIssue(now = new Date()): SampleIssue {
  const lead: EmailArticle = {
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
      `more in [our privacy notes](${SAMPLE_WEBSITE}/privacy) or the [Apple announcement](https://www.apple.com/newsroom/).`,
      '',
      'A last tip: the `List-Unsubscribe-Post` header makes one-click unsubscribe work in Gmail and Yahoo, and both now',
      'require it for bulk senders.',
    ].join('\n'),
    url: `${SAMPLE_WEBSITE}/articles/the-quiet-death-of-the-open-rate`,
    author: 'Grace Hopper',
    publishedAt: daysAgo(now, 2, 14),
    leadImage: {
      url: previewImage('subject-lines.png'),
      alt: 'An inbox list in which one highlighted message stands out under a magnifying glass',
    },
    tags: ['deliverability', 'analytics'],
  };
  const others: EmailArticle[] = [
    {
      title: 'Plain-text parts are not optional',
      summary:
        'Spam filters, screen readers and smartwatches all read the text/plain part. Here is how to make yours as good as the HTML.',
      body: 'Every multipart email should carry a plain-text alternative that reads well on its own.',
      url: `${SAMPLE_WEBSITE}/articles/plain-text-parts`,
      author: 'Katherine Johnson',
      publishedAt: daysAgo(now, 4, 10),
      leadImage: null,
      tags: ['html-email'],
    },
    {
      title: 'One-click unsubscribe, explained',
      summary:
        'RFC 8058 in five minutes: the two headers Gmail and Yahoo now require, what the POST request looks like, and why it must not need a login.',
      body: 'Since February 2024, bulk senders must support one-click unsubscribe.',
      url: `${SAMPLE_WEBSITE}/articles/one-click-unsubscribe`,
      author: 'Radia Perlman',
      publishedAt: daysAgo(now, 6, 8),
      leadImage: {
        url: previewImage('email-authentication.png'),
        alt: 'A white envelope with a yellow badge showing a check mark',
      },
      tags: ['compliance'],
    },
    {
      title: 'Designing emails for dark mode',
      summary:
        'Some clients invert your colors, some respect prefers-color-scheme, and some do both badly. A field guide to staying readable.',
      body: 'Dark mode support in email clients falls into three camps.',
      url: `${SAMPLE_WEBSITE}/articles/dark-mode-emails`,
      author: 'Margaret Hamilton',
      publishedAt: daysAgo(now, 8, 16),
      leadImage: {
        url: previewImage('inbox-summit-2026.png'),
        alt: 'A stage under two spotlights with confetti falling against a purple and pink sky',
      },
      tags: ['design'],
    },
  ];
  return {
    brand: sampleBrand(),
    issue: {
      subject: 'Mailroom Weekly #42: the quiet death of the open rate',
      preheader: 'Why open tracking stopped meaning much, plus plain-text parts, one-click unsubscribe and dark mode.',
      number: 42,
      date: daysAgo(now, 0, 9),
    },
    articles: [lead, ...others],
  };
}

/** A single-article issue with a table, code and a quote. */
export function sampleArticleIssue(now = new Date()): SampleIssue {
  const article: EmailArticle = {
    title: 'How we render a newsletter once and send it ten thousand times',
    summary:
      'Rendering a React template per recipient is slow and risky. Render once, then substitute a short allow-list of variables.',
    body: [
      'Rendering a React Email template takes a few milliseconds. Multiply that by a list of forty thousand subscribers and',
      'the renderer, not the SMTP server, becomes the bottleneck. So Mailroom renders each issue **once**.',
      '',
      '## Placeholders, not props',
      '',
      'The template receives a `recipient` whose fields are Handlebars placeholders rather than real values. The rendered',
      'HTML then contains `{{firstName}}` and `href="{{unsubscribeUrl}}"`, and each send fills them in:',
      '',
      '```ts',
      "const html = await renderIssue({ template: 'digest', props });",
      'const personal = compile(html.html)({ firstName: "Ada", unsubscribeUrl });',
      '```',
      '',
      '### What a recipient can see',
      '',
      'Only a short allow-list of variables exists:',
      '',
      '- first, last and full name',
      '- email address',
      '- unsubscribe, preferences and web-version links',
      '',
      '> Anything an article author writes that looks like a placeholder, such as {{email}}, is escaped before rendering,',
      "> so it shows up as text instead of leaking a subscriber's address.",
      '',
      '## The numbers',
      '',
      '| Step | Per issue | Per recipient |',
      '| --- | ---: | ---: |',
      '| React render | 40 ms | 0 ms |',
      '| Handlebars fill | 0 ms | 0.05 ms |',
      '',
      'The full benchmark lives in [the repository](https://github.com/example/mailroom/tree/main/bench), and the',
      '[previous issue](/issues/weekly/42) explains why we no longer count opens.',
      '',
      '---',
      '',
      '*Questions? Just reply to this email — it goes to a real inbox.*',
    ].join('\n'),
    url: `${SAMPLE_WEBSITE}/articles/render-once`,
    author: 'Ada Lovelace',
    publishedAt: daysAgo(now, 1, 11),
    leadImage: {
      url: previewImage('bakery-co-op.png'),
      alt: 'Five rising bars and a line chart in front of a warm sun over soft hills',
    },
    tags: ['engineering', 'rendering'],
  };
  return {
    brand: sampleBrand(),
    issue: {
      subject: 'How we render a newsletter once and send it ten thousand times',
      preheader: 'Render once, personalize with placeholders, and never let an article inject a variable.',
      number: 43,
      date: daysAgo(now, 0, 9),
    },
    articles: [article],
  };
}

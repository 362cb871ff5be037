/** What the sample page (shared/samples/article-page.txt) must become: its title, its dek and its six section headings. */
export const SAMPLE_TITLE = 'Microsoft and OpenAI Announce Tentative Deal: A $4.5 Trillion Partnership Pivot';
export const SAMPLE_DEK =
  'Microsoft and OpenAI signed a non binding memorandum that gives OpenAI more capital flexibility, allows a multi cloud strategy, and preserves Microsoft as a major investor. The move signals a shift toward coopetition in enterprise AI deployment and could reshape cloud competition and pricing.';
export const SAMPLE_HEADINGS = [
  'Background on the strategic alliance',
  'Key changes in the tentative deal',
  'Why this matters for businesses and cloud providers',
  'Practical implications and best practices',
  'Market outlook',
  'Conclusion',
];

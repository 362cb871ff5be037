/**
 * What domain suppression (issue 13) costs where a campaign's recipients are chosen and each message is claimed:
 * `npx tsx scripts/measure-domain-suppression.ts [--members 20000] [--domains 200]`. In one run, on one SQLite file per
 * case, fixes a campaign for N members and claims every row (the engine's statements), with no suppressed domain
 * and with D of them; prints each time and the ratio to the baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeliverabilityStore } from '../src/store/deliverability-store.ts';
import { openStores } from '../src/store/open-store.ts';

const { values } = parseArgs({ options: { members: { type: 'string', default: '20000' }, domains: { type: 'string', default: '200' } } });
const members = Number(values.members);
const domains = Number(values.domains);

async function run(suppressedDomains: number): Promise<{ fix: number; claim: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-measure-'));
  const store = await openStores(join(dir, 'm.db'));
  try {
    const list = await store.audience.createList('bench', '');
    async function* rows() {
      for (let i = 0; i < members; i++) yield { line: i + 2, ok: true as const, row: { email: `reader${i}@example${i % 50}.com`, name: '', firstName: '', lastName: '', attributes: {} } };
    }
    await store.audience.importSubscribers(list.id, rows(), { source: 'bench' });
    const newsletter = await store.newsletters.createNewsletter({ slug: 'bench', name: 'Bench', fromName: 'B', fromEmail: 'b@example.com', replyTo: '', listId: list.id, template: 'digest', postalAddress: 'x', logoUrl: '', subjectTemplate: '{{subject}}', maxArticles: 5, language: 'en' } as never);
    const issue = await store.newsletters.createIssue({ newsletterId: newsletter.id, subject: 's', preheader: '', html: '<p>x</p>', text: 'x', articleIds: [] } as never);
    const d = new DeliverabilityStore(store.db);
    for (let i = 0; i < suppressedDomains; i++) await d.addSuppression(`@suppressed${i}.example.net`, 'bench');
    let t = performance.now();
    const { campaign } = await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
    const fix = performance.now() - t;
    t = performance.now();
    const now = new Date().toISOString();
    for (;;) {
      const due = await store.campaigns.listDueRecipients(campaign.id, 500, now);
      if (due.length === 0) break;
      const claims = await store.campaigns.claimForSending(campaign.id, due.map((r) => r.subscriberId), now);
      await store.campaigns.recordOutcomes(campaign.id, [...claims.keys()].map((subscriberId) => ({ subscriberId, status: 'sent' as const, smtpResponse: '250 ok', messageId: `<${subscriberId}@x>` })), now);
    }
    return { fix, claim: performance.now() - t };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = await run(0);
const withDomains = await run(domains);
const show = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(`${members} members: fix recipients ${show(base.fix)} (no suppressed domain) vs ${show(withDomains.fix)} (${domains} domains): ×${(withDomains.fix / base.fix).toFixed(2)}`);
console.log(`${members} members: claim and record every row ${show(base.claim)} vs ${show(withDomains.claim)}: ×${(withDomains.claim / base.claim).toFixed(2)}`);

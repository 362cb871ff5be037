/**
 * The store contract: what every backend (SQLite, Postgres) must do, CRUD and concurrency. Each race opens two
 * stores on one database (two connections, as two processes have) and runs them side by side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderStore } from '../../src/store/leader-store.ts';
import { SubscriberStore } from '../../src/store/subscriber-store.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { article, BACKENDS, importRows, newsletterInput, openContractStores } from './backends.ts';

describe.each(BACKENDS)('store contract on $name', (backend) => {
  describe.skipIf(!backend.available)(`${backend.name}`, () => {
    let a: Stores;
    let b: Stores;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const opened = await openContractStores(backend, 2);
      [a, b] = opened.stores as [Stores, Stores];
      close = opened.close;
    });
    afterAll(async () => {
      await close?.();
    });

    it('stores and reads lists, subscribers, articles, newsletters, issues and campaigns', async () => {
      const list = await a.audience.createList('crud', 'a list');
      await expect(a.audience.createList('crud')).rejects.toThrow(/already exists/);
      const report = await a.audience.importSubscribers(list.id, importRows(5, 'crud'), { source: 'test.csv' });
      expect(report).toMatchObject({ addedToList: 5, newPeople: 5, profilesChanged: 0, applied: true });
      const again = await b.audience.importSubscribers(list.id, importRows(5, 'crud'), { source: 'test.csv' });
      expect(again).toMatchObject({ addedToList: 0, alreadyOnList: 5, unchanged: 5 });
      expect((await b.audience.listLists()).find((l) => l.name === 'crud')).toMatchObject({ subscribed: 5, unsubscribed: 0, pending: 0 });

      const saved = await a.content.upsertArticle(article('crud-one'));
      expect(saved.outcome).toBe('added');
      expect((await b.content.upsertArticle(article('crud-one'))).outcome).toBe('unchanged');
      expect((await b.content.upsertArticle(article('crud-one', { title: 'New title' }))).outcome).toBe('updated');
      expect((await a.content.findArticle('crud-one'))?.title).toBe('New title');
      expect((await a.content.findArticle(saved.article.id))?.tags).toEqual(['news']);

      const newsletter = await a.newsletters.createNewsletter(newsletterInput('crud', list.id));
      const issue = await a.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'One', preheader: '', html: '<p>x</p>', text: 'x', articleIds: [saved.article.id] });
      expect(issue.number).toBe(1);
      expect((await b.newsletters.getIssue(issue.id))?.articleIds).toEqual([saved.article.id]);
      const { campaign, recipients } = await a.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
      expect(recipients).toBe(5);
      const due = await b.campaigns.listDueRecipients(campaign.id, 10, new Date().toISOString());
      expect(due.map((d) => d.email)).toEqual([0, 1, 2, 3, 4].map((i) => `crud${i}@example.com`));
      const claims = await a.campaigns.claimForSending(campaign.id, due.map((d) => d.subscriberId), new Date().toISOString());
      expect([...claims.values()].every((reason) => reason === null)).toBe(true);
      const now = new Date().toISOString();
      await a.campaigns.recordOutcomes(
        campaign.id,
        due.map((d) => ({ subscriberId: d.subscriberId, status: 'sent' as const, smtpResponse: '250 ok', messageId: `<${d.subscriberId}@x>` })),
        now,
      );
      expect(await b.campaigns.countSends(campaign.id)).toMatchObject({ sent: 5, pending: 0, sending: 0 });
      expect(await b.campaigns.countSentSince(campaign.id, '2000-01-01T00:00:00.000Z')).toBe(5);

      // An unsubscribe is seen by the other connection at once.
      const first = due[0];
      if (!first) throw new Error('no recipient');
      expect(await b.audience.unsubscribeFromList(first.subscriberId, list.id)).toMatchObject({ wasSubscribed: true });
      expect(await a.audience.membershipStatus(first.subscriberId, list.id)).toBe('unsubscribed');
      expect((await a.audience.listLists()).find((l) => l.name === 'crud')).toMatchObject({ subscribed: 4, unsubscribed: 1 });
    });

    it('two connections racing for the same send rows: each row is claimed once', async () => {
      const list = await a.audience.createList('race-rows');
      await a.audience.importSubscribers(list.id, importRows(60, 'rows'), { source: 'rows.csv' });
      const newsletter = await a.newsletters.createNewsletter(newsletterInput('race-rows', list.id));
      const issue = await a.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'S', preheader: '', html: 'h', text: 't', articleIds: [] });
      const { campaign } = await a.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
      const now = new Date().toISOString();
      const ids = (await a.campaigns.listDueRecipients(campaign.id, 100, now)).map((d) => d.subscriberId);
      expect(ids).toHaveLength(60);
      // Both claim every row, in small batches, at the same time.
      const claimAll = async (store: Stores) => {
        const won: number[] = [];
        for (let i = 0; i < ids.length; i += 5) {
          const claims = await store.campaigns.claimForSending(campaign.id, ids.slice(i, i + 5), now);
          for (const [id, reason] of claims) if (reason === null) won.push(id);
        }
        return won;
      };
      const [wonA, wonB] = await Promise.all([claimAll(a), claimAll(b)]);
      expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
      expect(await a.campaigns.countSends(campaign.id)).toMatchObject({ sending: 60, pending: 0 });
    });

    it('two connections racing for the same schedule slot: one campaign', async () => {
      const list = await a.audience.createList('race-slot');
      await a.audience.importSubscribers(list.id, importRows(3, 'slot'), { source: 'slot.csv' });
      const newsletter = await a.newsletters.createNewsletter(newsletterInput('race-slot', list.id));
      const slotAt = '2026-03-02T09:00:00.000Z';
      const input = { newsletterId: newsletter.id, listId: list.id, slotAt, issue: { newsletterId: newsletter.id, subject: 'Slot', preheader: '', html: 'h', text: 't', articleIds: [] } };
      const results = await Promise.all([a.schedules.createSlotCampaign(input), b.schedules.createSlotCampaign(input), a.schedules.createSlotCampaign(input), b.schedules.createSlotCampaign(input)]);
      const made = results.filter((r) => r !== null);
      expect(made).toHaveLength(1);
      expect(made[0]?.recipients).toBe(3);
      expect((await b.campaigns.listCampaigns()).filter((c) => c.newsletterId === newsletter.id)).toHaveLength(1);
      expect((await a.schedules.findSlot(newsletter.id, slotAt))?.outcome).toBe('campaign');
      expect(await b.schedules.recordSlotWithoutCampaign(newsletter.id, slotAt, 'skipped-empty', '')).toBe(false);
    });

    it('two connections racing for the same issue number: numbers 1…n, each once', async () => {
      const list = await a.audience.createList('race-issue');
      const newsletter = await a.newsletters.createNewsletter(newsletterInput('race-issue', list.id));
      const make = (store: Stores, i: number) => store.newsletters.createIssue({ newsletterId: newsletter.id, subject: `S${i}`, preheader: '', html: 'h', text: 't', articleIds: [] });
      const issues = await Promise.all(Array.from({ length: 12 }, (_, i) => make(i % 2 === 0 ? a : b, i)));
      expect(issues.map((i) => i.number).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect((await a.newsletters.listIssues(newsletter.id)).length).toBe(12);
    });

    it('two connections racing for the same rate-limit window: exactly the limit is allowed', async () => {
      const sa = new SubscriberStore(a.db);
      const sb = new SubscriberStore(b.db);
      const now = new Date('2026-05-01T10:00:00.000Z');
      const hits = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? sa : sb).hitRateLimit('signup-ip', '203.0.113.9', now, 60_000, 10)));
      expect(hits.filter((h) => h.allowed)).toHaveLength(10);
      const refused = hits.find((h) => !h.allowed);
      expect(refused?.retryAfterMs).toBe(60_000);
      // A hit given back frees one place.
      await sa.releaseRateLimitHit('signup-ip', '203.0.113.9', now);
      expect((await sb.hitRateLimit('signup-ip', '203.0.113.9', now, 60_000, 10)).allowed).toBe(true);
      expect((await sb.hitRateLimit('signup-ip', '203.0.113.9', now, 60_000, 10)).allowed).toBe(false);
      expect(await sa.pruneRateLimits(new Date('2026-05-01T11:00:00.000Z'))).toBe(10);
    });

    it('two connections signing up the same address at once: one subscriber, one pending membership', async () => {
      const list = await a.audience.createList('race-signup');
      const request = { listId: list.id, email: 'same@example.com', name: 'Same', firstName: 'Same', lastName: '', source: 'signup:form', ip: null, now: new Date() };
      const outcomes = await Promise.all([new SubscriberStore(a.db).requestSignup(request), new SubscriberStore(b.db).requestSignup(request), new SubscriberStore(a.db).requestSignup(request)]);
      expect(outcomes.every((o) => o.kind === 'confirm')).toBe(true);
      expect(outcomes.filter((o) => o.kind === 'confirm' && o.created)).toHaveLength(1);
      const subscriber = await a.audience.findSubscriberByEmail('same@example.com');
      expect(subscriber).not.toBeNull();
      expect(await b.audience.membershipStatus(subscriber?.id ?? 0, list.id)).toBe('pending');
      const confirmed = await Promise.all([
        new SubscriberStore(a.db).confirmMembership(subscriber?.id ?? 0, list.id, null, new Date()),
        new SubscriberStore(b.db).confirmMembership(subscriber?.id ?? 0, list.id, null, new Date()),
      ]);
      expect([...confirmed].sort()).toEqual(['already-subscribed', 'confirmed']);
      expect(await a.audience.membershipStatus(subscriber?.id ?? 0, list.id)).toBe('subscribed');
    });

    it('one-click unsubscribes from two connections at once: each recorded once, the first time kept, the page data returned', async () => {
      const list = await a.audience.createList('race-unsubscribe');
      await a.audience.importSubscribers(list.id, importRows(3, 'unsub'), { source: 'test.csv' });
      const [first] = await a.audience.listSubscribers({ listId: list.id, limit: 1 });
      const id = first?.id ?? 0;
      const at = new Date('2030-01-01T00:00:00.000Z');
      const results = await Promise.all([new SubscriberStore(a.db).unsubscribe(id, list.id, at), new SubscriberStore(b.db).unsubscribe(id, list.id, new Date('2030-01-02T00:00:00.000Z'))]);
      expect(results.every((r) => r?.email === first?.email && r?.listName === 'race-unsubscribe')).toBe(true);
      expect(results.filter((r) => r?.wasSubscribed)).toHaveLength(1);
      expect(await b.audience.membershipStatus(id, list.id)).toBe('unsubscribed');
      expect(await new SubscriberStore(a.db).unsubscribe(999_999, list.id, at)).toBeNull();
      expect(await new SubscriberStore(b.db).listPageNewsletters(list.id)).toEqual([]);
    });

    it('two connections importing the same article at once: one row', async () => {
      const results = await Promise.all([a.content.upsertArticle(article('same-article')), b.content.upsertArticle(article('same-article')), a.content.upsertArticle(article('same-article'))]);
      expect(results.filter((r) => r.outcome === 'added')).toHaveLength(1);
      expect(new Set(results.map((r) => r.article.id)).size).toBe(1);
    });

    it('two connections adding the same subscriber at once: one row, no error', async () => {
      const list = await a.audience.createList('race-add');
      const fields = { email: 'add@example.com', name: 'Add', firstName: 'Add', lastName: '', attributes: { plan: 'pro' } };
      const outcomes = await Promise.all([a.audience.addSubscriber(list.id, fields, 'cli'), b.audience.addSubscriber(list.id, fields, 'cli')]);
      // One of them made the person and joined the list; the other found them on it already.
      expect(outcomes.map((o) => `${o.person}/${o.list}/${o.profileChanged}`).sort()).toEqual(['known/already/false', 'new/joined/false']);
      expect((await a.audience.findSubscriberByEmail('add@example.com'))?.attributes).toEqual({ plan: 'pro' });
    });

    it('two processes claiming the scheduler at once: one leader, on the database clock, replaced once its lease runs out', async () => {
      const la = new LeaderStore(a.db);
      const lb = new LeaderStore(b.db);
      const won = await Promise.all([la.claim('scheduler', 'host-a', 60_000), lb.claim('scheduler', 'host-b', 60_000), la.claim('scheduler', 'host-a', 60_000)]);
      const leader = won[1] ? 'host-b' : 'host-a';
      expect(won[1]).not.toBe(won[0]);
      expect((await la.holder('scheduler'))?.owner).toBe(leader);
      const other = leader === 'host-a' ? lb : la;
      const otherId = leader === 'host-a' ? 'host-b' : 'host-a';
      expect(await other.claim('scheduler', otherId, 60_000)).toBe(false);
      // The leader renews; a lease that has run out (here: one renewed as already expired) goes to the next claimer.
      const self = leader === 'host-a' ? la : lb;
      expect(await self.claim('scheduler', leader, 60_000)).toBe(true);
      expect(await self.claim('scheduler', leader, -1000)).toBe(true);
      expect(await la.holder('scheduler')).toBeNull();
      expect(await other.claim('scheduler', otherId, 60_000)).toBe(true);
      await other.release('scheduler', otherId);
      expect(await la.holder('scheduler')).toBeNull();
    });
  });
});

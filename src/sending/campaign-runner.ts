/** The service's campaign runner: on every tick, starts due scheduled campaigns and runs campaigns that nobody is running (after a crash, a restart, or an SMTP outage; at once when the crashed process was on this host). */
import { isMailroomError } from '../core/errors.ts';
import { defaultOwner } from './engine.ts';
import { isDeadLocalHolder } from './lease-owner.ts';
import { runStoredCampaign, type SendDeps } from './send-newsletter.ts';

export interface CampaignRunner {
  /** Looks for runnable campaigns and runs them one after another; a tick while one is running does nothing. */
  tick(): Promise<void>;
  /** Drains: the campaign being sent stops taking recipients, records the ones in flight, and stays resumable. */
  stop(): Promise<void>;
  readonly owner: string;
}

export function createCampaignRunner(deps: Omit<SendDeps, 'signal'>): CampaignRunner {
  const controller = new AbortController();
  const owner = deps.owner ?? defaultOwner();
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  let running: Promise<void> | null = null;

  /** Campaigns still sending under a lease whose holder, a process of this host, no longer exists (kill -9): taken over now, not when the lease runs out. */
  const orphaned = async (now: string) => {
    const out = [];
    for (const campaign of await deps.stores.campaigns.listCampaigns({ status: 'sending', limit: 1000 })) {
      const holder = await deps.stores.campaigns.leaseHolder(campaign.id, now);
      if (holder && isDeadLocalHolder(holder.owner)) out.push(campaign);
    }
    return out;
  };

  const runOnce = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      const now = clock().toISOString();
      const runnable = [...(await deps.stores.campaigns.listRunnableCampaigns(now)), ...(await orphaned(now))];
      if (runnable.length === 0) return;
      let progressed = false;
      for (const campaign of runnable) {
        if (controller.signal.aborted) return;
        if (campaign.status === 'scheduled') {
          const fixed = await deps.stores.campaigns.startScheduledCampaign(campaign.id, now);
          if (fixed !== null) {
            log(`campaign ${campaign.id}: scheduled start, ${fixed.recipients} recipient(s) fixed${fixed.alreadyReceived > 0 ? `; ${fixed.alreadyReceived} left out: they already received this issue in an earlier campaign` : ''}`);
          }
        } else if (campaign.status === 'paused') {
          log(`campaign ${campaign.id}: trying the SMTP server again`);
          await deps.stores.campaigns.resumeCampaignStatus(campaign.id, now);
        }
        try {
          const result = await runStoredCampaign({ ...deps, log, signal: controller.signal, owner }, campaign.id, { waitForDeferred: false });
          if (result.status !== 'busy') progressed = true;
          if (result.status === 'sent') log(`campaign ${campaign.id}: sent (${result.counts.sent} sent, ${result.counts.failed} failed, ${result.counts.skipped} skipped)`);
          if (result.status === 'paused') log(`campaign ${campaign.id}: paused: ${result.error ?? ''}`);
          if (result.possiblyDuplicated.length > 0) log(`campaign ${campaign.id}: possibly sent twice after a crash: ${result.possiblyDuplicated.join(', ')}`);
        } catch (error) {
          if (!isMailroomError(error)) throw error;
          log(`campaign ${campaign.id}: cannot run: ${error.message}`);
          await deps.stores.campaigns.setCampaignStatus(campaign.id, 'failed', { error: error.message });
          progressed = true;
        }
      }
      // Everything left is held by another live process or waiting: come back on the next tick.
      if (!progressed) return;
    }
  };

  return {
    owner,
    tick(): Promise<void> {
      if (running || controller.signal.aborted) return running ?? Promise.resolve();
      running = runOnce()
        .catch((error: unknown) => log(`campaign runner: ${(error as Error).stack ?? String(error)}`))
        .finally(() => {
          running = null;
        });
      return running;
    },
    async stop(): Promise<void> {
      controller.abort();
      await running;
    },
  };
}

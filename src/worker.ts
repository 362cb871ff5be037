/**
 * `mailroom worker`: the sending side of `serve` without HTTP. It runs campaigns (on Postgres, together with every
 * other worker and `serve` on the database: rows are claimed in small batches, see src/store/send-claims-store.ts)
 * and, while it is the scheduler's leader (a lease on the database's clock), turns due schedule slots into campaigns.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import cron from 'node-cron';
import { createApp, type App } from './app.ts';
import { checkServeSettings, redact, type Config } from './config.ts';
import { runDueSlots } from './schedule/scheduler.ts';
import { createCampaignRunner } from './sending/campaign-runner.ts';
import { displayDatabaseUrl } from './store/database.ts';

export interface Worker {
  readonly app: App;
  /** This worker's id, as the `worker` column of the rows it sends holds it. */
  readonly id: string;
  close(): Promise<void>;
}

export async function startWorker(config: Config, options: { log: (line: string) => void; migrate?: boolean }): Promise<Worker> {
  checkServeSettings(config);
  const app = await createApp(config, options.migrate === false ? { migrate: false } : {});
  const { log } = options;
  const runner = createCampaignRunner(app.sendDeps({ log }));
  const leaderId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = 90_000;
  let ticking: Promise<void> | null = null;
  const tick = (): Promise<void> => {
    ticking ??= (async () => {
      try {
        if (await app.stores.leaders.claim('scheduler', leaderId, leaseMs))
          await runDueSlots({ stores: app.stores, publicUrl: config.publicUrl, catchUpMs: config.scheduleCatchUpHours * 3600_000, log });
      } catch (error) {
        log(`scheduler: ${(error as Error).message}`);
      }
      void runner.tick();
    })().finally(() => {
      ticking = null;
    });
    return ticking;
  };
  const task = cron.schedule(config.schedulerTick, () => tick(), { name: 'mailroom-worker-tick', noOverlap: true });
  log(`Mailroom worker ${runner.owner} sending through ${redact(app.smtpUrl)}; database ${displayDatabaseUrl(config.databaseUrl)}`);
  void tick();
  return {
    app,
    id: runner.owner,
    async close() {
      await task.stop();
      await task.destroy();
      await ticking;
      await runner.stop();
      await app.stores.leaders.release('scheduler', leaderId).catch(() => undefined);
      await app.close();
    },
  };
}

/**
 * Counting a big campaign's send rows off the event loop. better-sqlite3 runs a query synchronously, so counting a
 * million rows would stall every request and the sender for a few hundred milliseconds; this worker thread reads
 * the same file through its own read-only connection (WAL lets it read while the sender writes) and answers
 * SqlCampaignStore.countSends's question. Postgres answers asynchronously and needs none of this.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SEND_STATUSES, type SendStatus } from '../core/domain.ts';

export type SendCounts = Record<SendStatus, number>;

export interface SendCounter {
  count(campaignId: number): Promise<SendCounts>;
  close(): Promise<void>;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 10000');
const statement = db.prepare('SELECT status, count(*) AS n FROM sends WHERE campaign_id = ? GROUP BY status');
parentPort.on('message', ({ id, campaignId }) => {
  try {
    parentPort.postMessage({ id, rows: statement.all(campaignId) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

/** `path`: the SQLite file (DATABASE_URL). */
export function createSqliteSendCounter(path: string): SendCounter {
  const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { path: path.startsWith('file:') ? path.slice('file:'.length) : path, modulePath } });
  worker.unref();
  let next = 1;
  const waiting = new Map<number, { resolve: (counts: SendCounts) => void; reject: (error: Error) => void }>();
  worker.on('message', (message: { id: number; rows?: { status: string; n: number }[]; error?: string }) => {
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.error !== undefined || !message.rows) return pending.reject(new Error(`counting sends: ${message.error ?? 'no answer'}`));
    const counts = Object.fromEntries(SEND_STATUSES.map((s) => [s, 0])) as SendCounts;
    for (const row of message.rows) counts[row.status as SendStatus] = Number(row.n);
    pending.resolve(counts);
  });
  worker.on('error', (error) => {
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  });
  return {
    count(campaignId) {
      const id = next++;
      return new Promise<SendCounts>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, campaignId });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}


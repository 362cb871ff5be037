/** Hot writes asked for in the same synchronous turn, committed together in one write transaction. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { writeTransaction } from './write-transaction.ts';

type Db = Kysely<Database>;

export class BatchedWrites {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  private writeBatch: { readonly work: (trx: Db) => Promise<unknown>; readonly resolve: (value: unknown) => void; readonly reject: (error: unknown) => void }[] | null = null;

  /**
   * Runs `work` in one write transaction with the other hot writes (claims, outcomes) asked for in the same
   * synchronous turn: the engine records one worker's outcome and claims another worker's next recipient together,
   * at the cost of one commit. Each caller's promise resolves once that transaction has committed; if it fails,
   * nothing of it is written and every caller in it gets the error.
   */
  run<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let batch = this.writeBatch;
      if (!batch) {
        const open: NonNullable<typeof this.writeBatch> = [];
        batch = open;
        this.writeBatch = open;
        queueMicrotask(() => {
          this.writeBatch = null;
          writeTransaction(this.db, async (trx) => {
            const results: unknown[] = [];
            for (const w of open) results.push(await w.work(trx));
            return results;
          }).then(
            (results) => open.forEach((w, i) => w.resolve(results[i])),
            (error: unknown) => open.forEach((w) => w.reject(error)),
          );
        });
      }
      batch.push({ work: work as (trx: Db) => Promise<unknown>, resolve: resolve as (value: unknown) => void, reject });
    });
  }

}

/** What every aggregate store shares: its database, its clock, and the write transaction (BEGIN IMMEDIATE on SQLite). */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { writeTransaction } from './write-transaction.ts';

export abstract class SqlAggregateStore {
  readonly db: Kysely<Database>;
  protected readonly clock: () => Date;

  constructor(db: Kysely<Database>, clock: () => Date = () => new Date()) {
    this.db = db;
    this.clock = clock;
  }

  protected now(): string {
    return this.clock().toISOString();
  }

  /** A write transaction (BEGIN IMMEDIATE; see write-transaction.ts). */
  protected tx<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return writeTransaction(this.db, fn);
  }
}

/**
 * Subscriber CSV imports as jobs: started, they run in the background while the caller polls their progress (lines
 * read so far) and, once done, the per-line report. Jobs live in the process's memory, the newest 100 kept.
 */
import { Readable } from 'node:stream';
import { isMailroomError } from '../core/errors.ts';
import type { ImportRejection, ImportReport, ImportRowResult } from '../store/store-types.ts';
import { formatRejection, readSubscriberCsv } from '../subscribers/csv-rows.ts';
import { importIntoList, type SubscriberServiceStores } from './subscriber-service.ts';

/** What import jobs need of the stores (app.stores has it). */
export type ImportJobStores = SubscriberServiceStores;

export type ImportJobState = 'running' | 'done' | 'failed';

export interface ImportJob {
  readonly id: string;
  readonly list: string;
  readonly source: string;
  state: ImportJobState;
  linesRead: number;
  readonly startedAt: string;
  finishedAt: string | null;
  report: ImportReport | null;
  /** The rejected lines as the CLI prints them: `file:LINE: reason`. */
  lines: string[];
  error: string | null;
  /** Settles when the job has finished. */
  done: Promise<void>;
}

const KEEP = 100;

export class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();
  private next = 1;

  constructor(private readonly stores: ImportJobStores, private readonly clock: () => Date = () => new Date()) {}

  start(csv: string, options: { list: string; source: string; createList?: boolean; strict?: boolean }): ImportJob {
    const id = `imp_${this.clock().getTime().toString(36)}_${this.next++}`;
    const job: ImportJob = { id, list: options.list, source: options.source, state: 'running', linesRead: 0, startedAt: this.clock().toISOString(), finishedAt: null, report: null, lines: [], error: null, done: Promise.resolve() };
    this.jobs.set(id, job);
    for (const old of [...this.jobs.keys()].slice(0, Math.max(0, this.jobs.size - KEEP))) this.jobs.delete(old);
    const rows = readSubscriberCsv(Readable.from([csv]), options.source);
    const counted: AsyncIterable<ImportRowResult> & { deferDuplicates?: () => void } = {
      async *[Symbol.asyncIterator]() {
        for await (const row of rows) {
          job.linesRead = row.line;
          yield row;
        }
      },
      ...(rows.deferDuplicates ? { deferDuplicates: rows.deferDuplicates.bind(rows) } : {}),
    };
    job.done = importIntoList(this.stores, options.list, counted, { source: options.source, createList: options.createList ?? false, strict: options.strict ?? false })
      .then(({ report }) => {
        job.report = report;
        job.lines = report.rejected.map((r: ImportRejection) => formatRejection(options.source, r));
        job.state = 'done';
      })
      .catch((error: unknown) => {
        job.state = 'failed';
        job.error = isMailroomError(error) ? error.message : 'the import failed unexpectedly';
      })
      .finally(() => {
        job.finishedAt = this.clock().toISOString();
      });
    return job;
  }

  get(id: string): ImportJob | null {
    return this.jobs.get(id) ?? null;
  }

  /** Resolves when every running job has finished (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }
}

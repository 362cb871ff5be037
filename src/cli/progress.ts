/**
 * Progress of long work (imports, sends, feed polls, template renders) as the person running it sees it: on a
 * terminal a bar (cli-progress) with the count, the rate and the time left; off a terminal a plain line every
 * PROGRESS_INTERVAL_SECONDS; with --json one JSON object per line. Commands talk to the small `ProgressReporter`;
 * the formatting below is pure and tested on its own.
 */
import cliProgress from 'cli-progress';
import { cli, type CliOutput } from './context.ts';

/** What a command tells the reporter. */
export interface ProgressReporter {
  /** `done` units so far of `total` (null: not known). `detail` adds counts shown beside it (sent, failed…). */
  update(done: number, total: number | null, detail?: ProgressDetail): void;
  /** A line for a human, printed without breaking the bar; `error`: a warning or error (standard error off a terminal too). */
  log(line: string, error?: boolean): void;
  /** The work is over: the bar stops at its last state; lines and JSON print a final one. */
  finish(): void;
}

export type ProgressDetail = Readonly<Record<string, number>>;
export type ProgressMode = 'bar' | 'lines' | 'json';

/** Where the progress goes: a terminal (bar), anything else (lines), or --json (JSON lines). */
export function chooseProgressMode(stream: { readonly isTTY?: boolean }, json: boolean): ProgressMode {
  if (json) return 'json';
  return stream.isTTY === true ? 'bar' : 'lines';
}

// ------------------------------------------------------------------------------------------------- pure formatting

export interface ProgressSample {
  /** Milliseconds (any clock). */
  readonly at: number;
  readonly done: number;
}

export interface ProgressSnapshot {
  readonly done: number;
  readonly total: number | null;
  /** 0-100, or null without a total. */
  readonly percent: number | null;
  /** Units per second over the recent window, or null before there is one. */
  readonly ratePerSecond: number | null;
  /** Seconds left at that rate, or null (no total, no rate yet). */
  readonly etaSeconds: number | null;
  readonly elapsedSeconds: number;
}

/** The rate is measured over the last RATE_WINDOW_MS, so it follows a send that slows down or speeds up. */
export const RATE_WINDOW_MS = 10_000;

/** The state at `now` from the samples taken so far (oldest first; the first is the start). */
export function measureProgress(samples: readonly ProgressSample[], total: number | null, now: number): ProgressSnapshot {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const done = last?.done ?? 0;
  const elapsedSeconds = first ? Math.max(0, (now - first.at) / 1000) : 0;
  let ratePerSecond: number | null = null;
  if (first && last) {
    // The oldest sample inside the window (or the one just before it), against the newest.
    let from = first;
    for (const sample of samples) {
      if (sample.at <= now - RATE_WINDOW_MS) from = sample;
      else break;
    }
    const seconds = (now - from.at) / 1000;
    if (seconds >= 0.25 && last.done > from.done) ratePerSecond = (last.done - from.done) / seconds;
    else if (seconds >= 0.25 && elapsedSeconds >= 1) ratePerSecond = 0;
  }
  const percent = total === null ? null : total === 0 ? 100 : Math.min(100, (done / total) * 100);
  const left = total === null ? null : Math.max(0, total - done);
  const etaSeconds = left === null ? null : left === 0 ? 0 : ratePerSecond && ratePerSecond > 0 ? left / ratePerSecond : null;
  return { done, total, percent, ratePerSecond, etaSeconds, elapsedSeconds };
}

/** Keeps the samples a snapshot needs: the start, and those inside the rate window. */
export function trimSamples(samples: readonly ProgressSample[], now: number): ProgressSample[] {
  const kept = samples.filter((s, i) => i === 0 || s.at > now - RATE_WINDOW_MS * 2);
  return kept.length > 200 ? [kept[0] as ProgressSample, ...kept.slice(-199)] : kept;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "45s", "3m 05s", "1h 02m"; "?" when not known. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(rate: number | null, unit: string): string {
  if (rate === null) return `? ${unit}/s`;
  return `${rate >= 10 ? count(rate) : rate.toFixed(1)} ${unit}/s`;
}

function formatDetail(detail: ProgressDetail | undefined): string {
  const entries = Object.entries(detail ?? {});
  return entries.length === 0 ? '' : `; ${entries.map(([k, v]) => `${count(v)} ${k}`).join(', ')}`;
}

/**
 * One line: "import readers.csv: 12,000 of 50,000 rows (24%), 4,000 rows/s, 10s left; …". With `final`, the time
 * it took instead of the time left.
 */
export function formatProgressLine(task: string, unit: string, snap: ProgressSnapshot, detail?: ProgressDetail, final = false): string {
  const amount = snap.total === null ? `${count(snap.done)} ${unit}` : `${count(snap.done)} of ${count(snap.total)} ${unit} (${Math.floor(snap.percent ?? 0)}%)`;
  const timing = final
    ? `in ${formatDuration(snap.elapsedSeconds)}${snap.elapsedSeconds > 0 ? `, ${formatRate(snap.done / snap.elapsedSeconds, unit)}` : ''}`
    : `${formatRate(snap.ratePerSecond, unit)}, ${snap.total === null ? `${formatDuration(snap.elapsedSeconds)} so far` : `${formatDuration(snap.etaSeconds)} left`}`;
  return `${task}: ${amount}, ${timing}${formatDetail(detail)}`;
}

/** The same as one JSON object (one line): for scripts and CI logs. */
export function formatProgressJson(task: string, unit: string, snap: ProgressSnapshot, detail?: ProgressDetail, final = false): string {
  const round = (n: number | null, digits = 1) => (n === null ? null : Number(n.toFixed(digits)));
  return JSON.stringify({
    type: final ? 'progress-done' : 'progress',
    task,
    unit,
    done: snap.done,
    total: snap.total,
    percent: round(snap.percent),
    ratePerSecond: round(snap.ratePerSecond),
    etaSeconds: final ? 0 : round(snap.etaSeconds, 0),
    elapsedSeconds: round(snap.elapsedSeconds),
    ...(detail && Object.keys(detail).length > 0 ? { detail } : {}),
  });
}

/** The bar itself: "[██████░░░░]" of `width` cells; a total that is not known shows no fill. */
export function formatBar(percent: number | null, width: number): string {
  const filled = percent === null ? 0 : Math.round((Math.min(100, Math.max(0, percent)) / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** A terminal line: the bar, then the same words as a plain line. */
export function formatBarLine(task: string, unit: string, snap: ProgressSnapshot, detail?: ProgressDetail, width = 24): string {
  return `${formatBar(snap.percent, width)} ${formatProgressLine(task, unit, snap, detail)}`;
}

// ------------------------------------------------------------------------------------------------------- reporters

export interface ProgressOptions {
  /** What is being done, e.g. "import readers.csv", "campaign 12". */
  readonly task: string;
  /** What is counted, plural: "rows", "messages", "feeds", "templates". */
  readonly unit: string;
  readonly mode: ProgressMode;
  /** Lines and JSON: at most one every this many seconds (PROGRESS_INTERVAL_SECONDS). */
  readonly intervalSeconds: number;
  /** Bar and lines (default: standard error, so standard output keeps the results). */
  readonly stream?: ProgressStream;
  /** JSON lines (default: standard output). */
  readonly jsonStream?: CliOutput;
  /** `log` lines in lines mode (default: standard output, where the command's other lines go); bar and JSON modes log to `stream`. */
  readonly logStream?: CliOutput;
  /** Milliseconds (default: performance.now). */
  readonly now?: () => number;
}

/** Where the bar and progress lines go: a terminal (isTTY, columns) or any writable output. */
export type ProgressStream = CliOutput & { readonly isTTY?: boolean; readonly columns?: number };

const SAMPLE_MS = 100;

export function createProgress(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const stream = options.stream ?? process.stderr;
  const jsonStream = options.jsonStream ?? process.stdout;
  const logStream = options.logStream ?? process.stdout;
  // Samples for the rate at most every SAMPLE_MS; the newest count is kept apart, so an update per row stays cheap.
  let samples: ProgressSample[] = [];
  let current: ProgressSample = { at: 0, done: 0 };
  let total: number | null = null;
  let detail: ProgressDetail | undefined;
  let lastEmit = Number.NEGATIVE_INFINITY;
  let emitted = false;
  let finished = false;
  const snapshot = () => {
    const at = now();
    return measureProgress([...samples, { at, done: current.done }], total, at);
  };
  const record = (done: number, newTotal: number | null, newDetail?: ProgressDetail) => {
    const at = now();
    if (samples.length === 0) samples.push({ at, done: 0 });
    current = { at, done };
    const last = samples[samples.length - 1] as ProgressSample;
    if (at - last.at >= SAMPLE_MS) samples = trimSamples([...samples, current], at);
    total = newTotal;
    if (newDetail) detail = newDetail;
  };

  if (options.mode === 'bar') {
    const bar = new cliProgress.SingleBar({
      // cli-progress writes, moves the cursor and clears lines on a terminal stream.
      stream: stream as NodeJS.WritableStream,
      format: () => formatBarLine(options.task, options.unit, snapshot(), detail, Math.max(10, Math.min(30, (stream.columns ?? 80) - 90))),
      hideCursor: false,
      linewrap: false,
      gracefulExit: false,
      fps: 10,
    });
    let started = false;
    return {
      update(done, newTotal, newDetail) {
        if (finished) return;
        record(done, newTotal, newDetail);
        if (!started) {
          started = true;
          bar.start(newTotal ?? 0, done);
        }
        if (newTotal !== null) bar.setTotal(newTotal);
        bar.update(done);
      },
      log(line) {
        // Clear the bar's line, print, and let the next render draw it again below.
        if (started && !finished) stream.write('\r\x1b[2K');
        stream.write(`${line}\n`);
        if (started && !finished) bar.render();
      },
      finish() {
        if (finished) return;
        finished = true;
        if (started) {
          bar.stop();
          stream.write('\n');
        }
      },
    };
  }

  const emit = (final: boolean) => {
    const snap = snapshot();
    if (options.mode === 'json') jsonStream.write(`${formatProgressJson(options.task, options.unit, snap, detail, final)}\n`);
    else stream.write(`${formatProgressLine(options.task, options.unit, snap, detail, final)}\n`);
  };
  return {
    update(done, newTotal, newDetail) {
      if (finished) return;
      record(done, newTotal, newDetail);
      // The first line comes one interval after the start (a short job prints only its final line).
      if (lastEmit === Number.NEGATIVE_INFINITY) lastEmit = samples[0]?.at ?? now();
      if (now() - lastEmit >= options.intervalSeconds * 1000) {
        emit(false);
        emitted = true;
        lastEmit = now();
      }
    },
    log(line, error = false) {
      (options.mode === 'json' || error ? stream : logStream).write(`${line}\n`);
    },
    finish() {
      if (finished) return;
      finished = true;
      // Lines: a final one only after progress lines (a job shorter than the interval prints just its own summary).
      if (samples.length > 0 && (options.mode === 'json' || emitted)) emit(true);
    },
  };
}

/** The reporter for a command: a bar on a terminal (standard error), else lines, or JSON lines with --json. */
export function commandProgress(task: string, unit: string, options: { readonly json: boolean; readonly intervalSeconds: number }): ProgressReporter {
  // The run's own output (the process's for the binary; another for an in-process run).
  const run = cli();
  const stream = run.stderr as ProgressStream;
  return createProgress({ task, unit, mode: chooseProgressMode(stream, options.json), intervalSeconds: options.intervalSeconds, stream, jsonStream: run.stdout, logStream: run.stdout });
}

/** A command's result with --json: one line, after the progress lines. */
export function formatResultJson(result: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ type: 'result', ...result });
}

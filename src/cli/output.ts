/** Small helpers for what the CLI prints: aligned tables and error lines, on the run's output (context.ts). */
import { cli } from './context.ts';

export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export function print(line = ''): void {
  cli().stdout.write(`${line}\n`);
}

export function printError(line: string): void {
  cli().stderr.write(`${line}\n`);
}

/** Measures readSubscriberCsv on a big file (rows/s, peak RSS, heap growth from the duplicate index): `npx tsx scripts/measure-csv-read.ts --file /tmp/subs.csv`. */

import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSubscriberCsv } from '../src/subscribers/csv-rows.ts';

const { values } = parseArgs({ options: { file: { type: 'string' } } });
if (values.file === undefined) {
  throw new Error('--file <csv> is required (make one with: npx tsx scripts/gen-subscribers-csv.ts --rows 1000000 --out /tmp/subs.csv)');
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
const heapSamples: string[] = [];
let accepted = 0;
let rejected = 0;
const firstRejections: string[] = [];

const started = performance.now();
for await (const result of readSubscriberCsv(createReadStream(values.file), values.file)) {
  if (result.ok) accepted += 1;
  else {
    rejected += 1;
    if (firstRejections.length < 5) firstRejections.push(`line ${result.line}: ${result.value ?? ''} ${result.reason}`);
  }
  const rows = accepted + rejected;
  if (rows % 250_000 === 0) heapSamples.push(`${rows}: ${mb(process.memoryUsage().heapUsed)}`);
}
const seconds = (performance.now() - started) / 1000;
const heapAfter = process.memoryUsage().heapUsed;
const rows = accepted + rejected;

console.log(`file:            ${values.file}`);
console.log(`rows:            ${rows} (${accepted} accepted, ${rejected} rejected)`);
console.log(`time:            ${seconds.toFixed(2)} s`);
console.log(`throughput:      ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`);
console.log(`RSS before read: ${mb(rssBefore)}`);
// maxRSS is in kilobytes.
console.log(`peak RSS:        ${mb(process.resourceUsage().maxRSS * 1024)}`);
console.log(`heap used:       ${mb(heapBefore)} before, ${mb(heapAfter)} after (no forced GC; includes garbage)`);
console.log(`heap by row:     ${heapSamples.join(', ')}`);
if (firstRejections.length > 0) console.log(`first rejections:\n  ${firstRejections.join('\n  ')}`);

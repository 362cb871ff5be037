/** Writes a realistic, deterministic subscribers CSV (email,first_name,last_name,company,city) for load tests: `npx tsx scripts/gen-subscribers-csv.ts --rows 1000000 --out /tmp/subs.csv`. */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRandom } from './lib/seeded-random.ts';

const FIRST_NAMES = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William',
  'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'José', 'María',
  'François', 'Zoë', 'Søren', 'Łukasz', 'Ömer', 'Aiko', 'Wei', 'Priya', 'Nguyễn', 'Ángel', 'Björn', 'Chloé',
];
const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', "O'Brien", 'Müller', 'Dubois',
  'van der Berg', 'Kowalski', 'Yılmaz', 'Tanaka', 'Zhang', 'Patel', 'Nguyen', 'García Márquez', 'Ødegaard',
];
const COMPANIES = [
  'Acme Corp', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay Industries', 'Smith, Jones & Co', 'Stark "Labs"',
  'Wayne Enterprises', 'Société Générale', '', '', '',
];
const CITIES = [
  'London', 'Paris', 'Berlin', 'New York', 'San Francisco', 'Tokyo', 'São Paulo', 'Zürich', 'Kraków', 'Reykjavík',
  'Washington, D.C.', '', '',
];
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'proton.me', 'example.org', 'fastmail.com'];

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 0) throw new Error(`--rows must be a non-negative integer, got ${JSON.stringify(values.rows)}`);
if (values.out === undefined) throw new Error('--out <file> is required');

await writeSubscribersCsv(values.out, rows, Number(values.seed));

/** Streams `rows` rows to `path`, waiting for 'drain' whenever the file stream's buffer is full. */
async function writeSubscribersCsv(path: string, count: number, seed: number): Promise<void> {
  const out = createWriteStream(path);
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let batch = 'email,first_name,last_name,company,city\n';
  const started = performance.now();
  for (let i = 1; i <= count; i += 1) {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const local = `${slugify(first)}.${slugify(last)}${i}`;
    // A few uppercase addresses, as real exports have; they stay unique after lowercasing.
    const email = i % 50 === 0 ? `${local}@${pick(DOMAINS)}`.toUpperCase() : `${local}@${pick(DOMAINS)}`;
    batch += `${[email, first, last, pick(COMPANIES), pick(CITIES)].map(toCsvCell).join(',')}\n`;
    if (batch.length >= 64 * 1024) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
  const seconds = (performance.now() - started) / 1000;
  console.log(`wrote ${count} rows (${out.bytesWritten} bytes) to ${path} in ${seconds.toFixed(1)} s`);
}

function toCsvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}


/** The fast dot-stuffer against nodemailer's own DataStream transform: the same bytes for any input, however it is cut into chunks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { TransformCallback } from 'node:stream';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream.js';
import { describe, expect, test } from 'vitest';
import { dotStuffChunk, installFastDotStuffing, runTransform } from '../src/smtp/dot-stuffing.ts';
import { createRandom } from '../scripts/lib/seeded-random.ts';

type Transform = (this: DataStream, chunk: Buffer, encoding: BufferEncoding, done: TransformCallback) => void;
// Taken before any test installs the fast one.
const nodemailerTransform = DataStream.prototype._transform as Transform;

const fastTransform: Transform = function (this: DataStream, chunk, _encoding, done) {
  const out = dotStuffChunk(chunk, this.lastByte);
  this.push(out);
  this.lastByte = chunk[chunk.length - 1] as number;
  done();
};

describe('dot-stuffing', () => {
  test('random bytes of CR, LF, dots and letters, cut at random: byte for byte what nodemailer writes', () => {
    const random = createRandom(20261126);
    const alphabet = ['\r', '\n', '.', 'a', '\r\n', '\r\n.', 'é'];
    for (let round = 0; round < 3000; round += 1) {
      let text = '';
      const pieces = 1 + Math.floor(random() * 40);
      for (let i = 0; i < pieces; i += 1) text += alphabet[Math.floor(random() * alphabet.length)];
      const bytes = Buffer.from(text, 'utf8');
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * 6);
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      const expected = runTransform(nodemailerTransform, chunks);
      const actual = runTransform(fastTransform, chunks);
      expect(actual.toString('latin1'), JSON.stringify(chunks.map((c) => c.toString('latin1')))).toBe(expected.toString('latin1'));
    }
  });

  test('long chunks (whole messages, mostly CRLF lines, some dots and bare breaks): byte for byte what nodemailer writes', () => {
    const random = createRandom(20261204);
    const alphabet = ['a line of quoted-printable text=\r\n', 'short\r\n', '\r\n.', '.', '\r\n..', '\r', '\n', 'caf\u00e9 ', '\r\n'];
    const weights = [40, 20, 6, 2, 2, 1, 1, 5, 8];
    const total = weights.reduce((a, b) => a + b, 0);
    const pick = () => {
      let r = random() * total;
      for (let i = 0; i < alphabet.length; i += 1) if ((r -= weights[i] as number) < 0) return alphabet[i] as string;
      return alphabet[0] as string;
    };
    for (let round = 0; round < 300; round += 1) {
      let text = '';
      const pieces = 1 + Math.floor(random() * 600);
      for (let i = 0; i < pieces; i += 1) text += pick();
      const bytes = Buffer.from(text, 'utf8');
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 64 : 20000));
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      const expected = runTransform(nodemailerTransform, chunks);
      const actual = runTransform(fastTransform, chunks);
      expect(actual.equals(expected), `round ${round}`).toBe(true);
    }
  });

  test('a CRLF message with dot lines: only the dots are doubled, nothing else copied', () => {
    const message = Buffer.from('Subject: x\r\n\r\n.hidden\r\nplain\r\n..two\r\n', 'latin1');
    expect(dotStuffChunk(message, false).toString('latin1')).toBe('Subject: x\r\n\r\n..hidden\r\nplain\r\n...two\r\n');
    const clean = Buffer.from('a\r\nb\r\n', 'latin1');
    expect(dotStuffChunk(clean, false)).toBe(clean);
  });

  test('nodemailer, whose DataStream and private API Mailroom relies on, is pinned to the exact version installed', () => {
    const require = createRequire(import.meta.url);
    const pinned = (require('../package.json') as { dependencies: Record<string, string> }).dependencies['nodemailer'];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect((require('nodemailer/package.json') as { version: string }).version).toBe(pinned);
  });

  test('importing the SMTP modules changes nothing in nodemailer; the composition root installs the fast transform', async () => {
    await import('../src/smtp/smtp-transport.ts');
    await import('../src/smtp/relays.ts');
    await import('../src/sending/engine.ts');
    expect(DataStream.prototype._transform).toBe(nodemailerTransform);
    const { createApp } = await import('../src/app.ts');
    const { loadConfig } = await import('../src/config.ts');
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-dot-'));
    const app = await createApp(loadConfig({ DATA_DIR: dir, SECRET: 'dot-stuffing-secret-0123456789abcdefghij' }, dir));
    try {
      expect(DataStream.prototype._transform).not.toBe(nodemailerTransform);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('installed into nodemailer after its self-check; a stream then writes the same as before', async () => {
    expect(installFastDotStuffing()).toBe(true);
    expect(DataStream.prototype._transform).not.toBe(nodemailerTransform);
    const stream = new DataStream();
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    stream.write('.first\n');
    stream.write('second\r');
    stream.end('.third');
    await ended;
    expect(Buffer.concat(out).toString('latin1')).toBe('..first\r\nsecond\r\n..third\r\n.\r\n');
    expect(stream.inByteCount).toBe(20);
    expect(stream.outByteCount).toBe(Buffer.concat(out).length);
  });
});

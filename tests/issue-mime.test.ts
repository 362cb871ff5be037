import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { describe, expect, test } from 'vitest';
import { composeMessage, makeMessageId, type MessageFrame } from '../src/mime/compose.ts';
import { prepareIssueMime } from '../src/mime/issue-mime.ts';
import { buildRecipientContext, compileIssue } from '../src/personalization/personalize.ts';

const frame: MessageFrame = {
  fromName: 'Mailroom Weekly',
  fromEmail: 'news@mailroom.example',
  replyTo: 'editor@mailroom.example',
  listIdentifier: 'weekly.demo.mailroom.example',
  listLabel: 'Mailroom Weekly',
  feedbackId: '7:weekly:demo:mailroom',
};

const longLine = Array.from({ length: 60 }, (_, i) => `<td style="padding:0;color:#333">cell ${i} · café ${'x'.repeat(i % 7)}</td>`).join('');
const templates = {
  subject: 'Issue #3 for {{firstName}}: Ünïcode & a very long subject line that needs folding more than once in the header',
  html: `<!DOCTYPE html><html><body>\n<p>Hi {{firstName}},</p>${longLine}\n.a line that starts with a dot\n  {{#if attributes.city}}\n  <b>{{attributes.city}}</b>\n  {{else}}\n  nowhere \n  {{/if}}\ntrailing spaces   \n<a href="{{unsubscribeUrl}}">Unsubscribe</a><a href="{{preferencesUrl}}">Preferences</a>{{email}}${longLine}\\{{literal}}</body></html>`,
  text: 'View in browser <{{webVersionUrl}}>\n\nHi {{firstName}},\n\n.dot first\n{{#if attributes.city}}\nCity: {{attributes.city}}\n{{/if}}\nBye {{fullName}}  \n' + 'word '.repeat(40) + '\nUnsubscribe: {{unsubscribeUrl}}\n',
};

const people: { id: number; email: string; name: string; attributes: Record<string, string> }[] = [
  { id: 1, email: 'ada@example.com', name: 'Ada Lovelace', attributes: { city: 'London' } },
  { id: 2, email: 'jose@example.com', name: 'José Ñúñez-García', attributes: {} },
  { id: 3, email: 'obrien@example.com', name: "O'Brien, \"Sons\" & <Co>", attributes: { city: 'A&B <c>' } },
  { id: 4, email: 'anon@example.com', name: '', attributes: {} },
  { id: 5, email: 'long@example.com', name: 'Maximilian Alexander Bartholomew Fitzgerald-Worthington the Third of Somewhere', attributes: { city: 'Zürich' } },
  { id: 6, email: 'cjk@example.com', name: '山田 太郎', attributes: { city: '東京' } },
];

function contextOf(p: (typeof people)[number]) {
  return buildRecipientContext(
    { email: p.email, name: p.name, firstName: '', lastName: '', attributes: p.attributes },
    { unsubscribeUrl: `https://news.example.com/u/${p.id}.abcdefghijklmnopqrstuvwxyz0123456789-_abcdefghijklmnopqrstuvwxyz`, preferencesUrl: `https://news.example.com/p/${p.id}.token`, webVersionUrl: 'https://news.example.com/issues/weekly/3' },
  );
}

async function viaNodemailer(options: ReturnType<typeof composeMessage>['options']): Promise<Buffer> {
  const info = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }).sendMail(options);
  return info.message as Buffer;
}

function headerLines(raw: Buffer): Map<string, string> {
  const block = raw.toString('utf8').split('\r\n\r\n')[0] ?? '';
  const out = new Map<string, string>();
  for (const field of block.split(/\r\n(?![ \t])/)) out.set(field.slice(0, field.indexOf(':')).toLowerCase(), field);
  return out;
}

describe('issue MIME built once, filled per recipient', () => {
  test('every recipient gets the same headers and decoded parts as a message nodemailer composes in full', async () => {
    const compiled = compileIssue(templates);
    const date = new Date('2026-11-26T10:00:00Z');
    const sample = people[0] as (typeof people)[number];
    const mime = await prepareIssueMime(frame, compiled, { email: sample.email, name: sample.name, context: contextOf(sample), messageId: makeMessageId(frame.fromEmail, 7, 0), date });
    expect(mime).not.toBeNull();
    for (const p of people) {
      const context = contextOf(p);
      const messageId = makeMessageId(frame.fromEmail, 7, p.id);
      const fast = mime?.build({ email: p.email, name: p.name, context, messageId, date }) ?? Buffer.alloc(0);
      const full = await viaNodemailer(composeMessage(frame, { email: p.email, name: p.name }, compiled.personalize(context), context, { messageId, date }).options);

      // Byte for byte the same header fields, boundaries aside.
      const a = headerLines(fast);
      const b = headerLines(full);
      expect([...a.keys()]).toEqual([...b.keys()]);
      for (const [key, line] of b) if (key !== 'content-type') expect(a.get(key), key).toBe(line);

      const [pf, pn] = await Promise.all([simpleParser(fast), simpleParser(full)]);
      expect(pf.text).toBe(pn.text);
      expect(pf.html).toBe(pn.html);
      expect(pf.subject).toBe(pn.subject);
      expect(pf.to).toEqual(pn.to);
      expect(pf.messageId).toBe(messageId);
      expect(pf.html).toContain(context.unsubscribeUrl.replace(/=/g, '&#x3D;'));
      // Quoted-printable lines stay within 76 characters; line ends are CRLF only.
      const body = fast.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n');
      for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
      expect(fast.toString('latin1')).not.toMatch(/[^\r]\n|\r[^\n]/);
    }
  });
});

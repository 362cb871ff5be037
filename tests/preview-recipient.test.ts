/** `preview` names exactly whom it shows: the same identity, and the same first name, the greeting in the file uses. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { describePreviewRecipient, SAMPLE_READER } from '../src/personalization/sample-reader.ts';
import { runInProcess } from './helpers/mailroom.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

/** A CLI run in this process, from the test's folder. */
const mailroomInProcess = (env: Record<string, string>, args: readonly string[]) => runInProcess(process.cwd(), args, env);

let ws: Workspace;
const env = () => ({ NODE_ENV: '', DATA_DIR: ws.dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: ws.app.config.secret, SMTP_URL: 'smtp://127.0.0.1:9' });

beforeAll(async () => {
  ws = await openWorkspace();
  await loadDemoWorkspace(ws.app);
  const demo = await ws.app.stores.audience.findListByName('demo');
  await ws.app.stores.audience.addSubscriber(demo?.id ?? 0, { email: 'noname@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'test');
});
afterAll(async () => {
  await ws.close();
});

/** The first name the file greets ("Hi …,"). */
const greeting = (file: string) => /Hi ([^,<]+),/.exec(readFileSync(file, 'utf8'))?.[1];

describe('preview names whom it previews', () => {
  test('without --as: the sample reader, by name and address, and the first name its greeting uses', async () => {
    const out = join(ws.dir, 'p.txt');
    const run = await mailroomInProcess(env(), ['preview', 'weekly', '--text', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(greeting(out)).toBe('Sample');
    expect(run.stdout).toContain(`as the sample reader Sample Reader <reader@example.com> (not a subscriber; greeted as "Sample"; --as EMAIL previews a real one) → ${out} (text,`);
  });

  test('with --as: that subscriber; one without a name is greeted with the fallback, and the message says so', async () => {
    const ada = join(ws.dir, 'ada.html');
    const named = await mailroomInProcess(env(), ['preview', 'weekly', '--out', ada, '--as', 'ADA@example.com']);
    expect(named.stdout).toContain('as Ada Lovelace <ada@example.com> (greeted as "Ada")');
    expect(greeting(ada)).toBe('Ada');

    const anon = join(ws.dir, 'anon.txt');
    const nameless = await mailroomInProcess(env(), ['preview', 'weekly', '--text', '--out', anon, '--as', 'noname@example.com']);
    expect(nameless.stdout).toContain('as noname@example.com (greeted as "there")');
    expect(greeting(anon)).toBe('there');
  });

  test('describePreviewRecipient', () => {
    expect(describePreviewRecipient({ email: SAMPLE_READER.email, fullName: 'Sample Reader', firstName: 'Sample' }, true)).toBe(
      'the sample reader Sample Reader <reader@example.com> (not a subscriber; greeted as "Sample"; --as EMAIL previews a real one)',
    );
    expect(describePreviewRecipient({ email: 'cy@example.com', fullName: 'Cy', firstName: 'Cy' }, false)).toBe('cy@example.com (greeted as "Cy")');
  });
});

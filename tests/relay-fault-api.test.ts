/**
 * The relay's state on the overview comes from what the transport knew when the relay stopped a campaign, recorded
 * with the pause, not from the error's wording: a real relay that answers its greeting with 421 and words that read
 * like a network failure ("Connection closed", "timed out") is reachable and refusing service, so it is `failing`,
 * and GET /campaigns/:id says the same in its relayFault field (described in /api/openapi.json).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Service } from '../src/service.ts';
import { apiClient, startApiTestService, type ApiTestService } from './helpers/api-client.ts';

let relay: Server;
let greetings = 0;
let service: Service;
let running: ApiTestService;
let base: string;
let auth: Record<string, string>;

const call = apiClient(() => ({ base, auth }));

beforeAll(async () => {
  // A relay that is up and answers every connection: busy, go away (RFC 5321 4.2.3's 421 greeting).
  relay = createServer((socket) => {
    greetings += 1;
    socket.end('421 4.3.2 Connection closed: too busy, timed out waiting for a slot\r\n');
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const port = (relay.address() as { port: number }).port;
  running = await startApiTestService(`smtp://127.0.0.1:${port}`, { tokenName: 'relay-fault' });
  ({ service, base, auth } = running);
});

afterAll(async () => {
  await running?.close();
  await new Promise((resolve) => relay?.close(resolve));
});

describe('the relay state is a structured field', () => {
  test('a relay that refuses service with network-sounding words is failing, not unreachable; the campaign says why', async () => {
    const issue = await call<{ number: number }>('POST', '/newsletters/weekly/issues', {});
    expect(issue.status).toBe(201);
    const count = await call<{ recipients: number }>('GET', `/newsletters/weekly/issues/${issue.data.number}/recipients`);
    const sent = await call<{ campaign: { id: number } }>('POST', '/campaigns', { newsletter: 'weekly', issue: issue.data.number, confirmRecipients: count.data.recipients });
    expect(sent.status).toBe(202);
    type Problems = { relay: { state: string; lastError: string | null; campaignId: number | null } };
    await expect.poll(async () => (await call<Problems>('GET', '/problems')).data.relay.campaignId, { timeout: 15_000 }).toBe(sent.data.campaign.id);
    const problems = (await call<Problems>('GET', '/problems')).data;
    expect(greetings).toBeGreaterThan(0);
    expect(problems.relay.lastError).toMatch(/421.*Connection closed/);
    expect(problems.relay.state).toBe('failing');

    const campaign = await call<{ campaign: { pauseReason: string | null; relayFault: string | null } }>('GET', `/campaigns/${sent.data.campaign.id}`);
    expect(campaign.status).toBe(200);
    expect(campaign.data.campaign).toMatchObject({ pauseReason: 'smtp', relayFault: 'failing' });
  });

  test('the OpenAPI document describes relayFault on the campaign', async () => {
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, { get?: unknown }> };
    const campaign = JSON.stringify(doc.paths['/api/v1/campaigns/{id}']?.get);
    expect(campaign).toMatch(/"relayFault":\{.{0,400}"refusing-logins","unreachable","failing"/);
  });
});

/**
 * Replay from the console: a request refused with a wrong secret, the secret fixed (the server
 * restarted on the same database with the account's token removed), then a dry run that shows the
 * diff and only then Apply; the same for the whole filter; the audit lists both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { adminGet, ADMIN_TOKEN, consoleConfig, describeBrowser, launch, openPage, postCallback, signIn, startConsoleApp, type ConsoleApp, type PageProbe } from './helpers';
import { aliyunReport } from './seed';


jest.setTimeout(90_000);

describeBrowser('replay in the console', () => {
  let dir: string;
  let server: ConsoleApp;
  let browser: Browser;
  const probes: PageProbe[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-console-replay-'));
    // the shop account wants ?token=: three reports refused as signature_invalid
    const before = await startConsoleApp(consoleConfig(), { dir });
    for (const [id, phone] of [
      ['shop-1^0', '13700137001'],
      ['shop-2^0', '13700137002'],
      ['shop-3^0', '13700137003'],
    ]) {
      expect((await postCallback(before.app, '/v1/callbacks/aliyun/shop', aliyunReport({ biz_id: id, phone_number: phone }), 'application/json')).status).toBe(401);
    }
    await before.close();
    // "the secret is fixed": the same database, the account without a token
    const config = consoleConfig() as { providers: { aliyun: { accounts: Record<string, object> } } };
    config.providers.aliyun.accounts.shop = {};
    server = await startConsoleApp(config, { dir });
    browser = await launch();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const p of probes.splice(0)) {
      expect({ csp: p.cspErrors, errors: p.pageErrors, foreign: p.foreign }).toEqual({ csp: [], errors: [], foreign: [] });
      await p.context.close();
    }
  });

  async function page() {
    const p = await openPage(browser, server.base);
    probes.push(p);
    return p.page;
  }

  /** The shop's stored request that carried `messageId` (a refused request reported nothing: found by its body). */
  async function rawOf(messageId: string) {
    const res = await adminGet(server.app, '/v1/raw?provider=aliyun&account=shop&limit=50');
    const items = res.body.items as { id: string; verdict: string; body: { content: string } }[];
    const found = items.find((r) => r.body.content.includes(JSON.stringify(messageId)));
    if (!found) throw new Error(`no stored request carries ${messageId}`);
    return found;
  }

  it('shows a dry-run diff of one request, and applies it only when asked', async () => {
    const raw = await rawOf('shop-1^0');
    expect(raw.verdict).toBe('signature_invalid');
    const p = await page();
    await signIn(p, server.base, ADMIN_TOKEN, `/console/raw/${raw.id}`);
    await p.getByRole('heading', { name: 'Headers' }).waitFor();
    // no Apply before a dry run
    expect(await p.getByRole('button', { name: 'Apply', exact: true }).count()).toBe(0);
    await p.getByRole('button', { name: 'Dry run', exact: true }).click();
    const dry = p.locator('.result', { has: p.getByRole('heading', { name: 'Dry run: what would happen' }) });
    await dry.waitFor();
    const diff = await dry.innerText();
    expect(diff).toMatch(/signature_invalid\s*→\s*(becomes\s*)?accepted/);
    expect(diff).toContain('Status changes it would make (1)');
    expect(diff).toContain('shop-1^0');
    expect(diff).toContain('13700137001');
    expect(diff).toMatch(/—\s+delivered/); // from nothing to delivered
    expect(diff).toContain('Events it would produce (1)');
    // nothing was written
    expect((await rawOf('shop-1^0')).verdict).toBe('signature_invalid');
    expect((await adminGet(server.app, '/v1/messages/aliyun/shop-1%5E0?account=shop')).status).toBe(404);

    await p.getByRole('button', { name: 'Apply', exact: true }).click();
    const applied = p.locator('.result', { has: p.getByRole('heading', { name: 'Applied: what happened' }) });
    await applied.waitFor();
    expect(await applied.innerText()).toContain('Status changes made (1)');
    expect((await rawOf('shop-1^0')).verdict).toBe('accepted');
    expect((await adminGet(server.app, '/v1/messages/aliyun/shop-1%5E0?account=shop')).body.message.status).toBe('delivered');
    // the page shows the request's new verdict
    await p.locator('dd .vd-accepted').first().waitFor();
  });

  it('replays the current filter: dry-run counts first, then Apply', async () => {
    const p = await page();
    await signIn(p, server.base, ADMIN_TOKEN, '/console/raw?verdict=signature_invalid&account=shop');
    await p.getByRole('heading', { name: 'Replay every request of this filter' }).waitFor();
    await p.getByRole('button', { name: 'Dry run of the filter' }).click();
    const dry = p.locator('.result', { has: p.getByRole('heading', { name: 'Dry run: what would happen' }) });
    await dry.waitFor();
    const summary = await dry.innerText();
    expect(summary).toContain('2 requests · 2 status changes');
    expect(summary).toMatch(/accepted\s+2/);
    expect((await rawOf('shop-2^0')).verdict).toBe('signature_invalid');
    await p.getByRole('button', { name: 'Apply to 2 requests' }).click();
    await p.getByRole('heading', { name: 'Applied: what happened' }).waitFor();
    expect((await rawOf('shop-2^0')).verdict).toBe('accepted');
    expect((await rawOf('shop-3^0')).verdict).toBe('accepted');
  });

  it('lists the replays in the audit with their parameters and results as JSON', async () => {
    const p = await page();
    await signIn(p, server.base, ADMIN_TOKEN, '/console/audit?action=replay');
    await p.locator('table.audit tbody tr').first().waitFor();
    expect(await p.locator('table.audit tbody tr').count()).toBe(4);
    const text = await p.locator('table.audit').innerText();
    expect(text).toContain('"dry_run": true');
    expect(text).toContain('"dry_run": false');
    expect(text).toContain('"verdict": "signature_invalid"');
    expect(text).toContain('admin (DLR_ADMIN_TOKEN)');
  });
});

/**
 * axe-core finds no serious or critical violation on any page of the console, in English and in
 * Chinese. axe is injected with page.evaluate, so every page keeps its real CSP while checked.
 */
import type { Browser, Page } from 'playwright-core';
import { adminGet, adminPost, ADMIN_TOKEN, axeViolations, consoleConfig, describeBrowser, launch, openPage, signIn, startConsoleApp, type ConsoleApp, type PageDocument } from './helpers';

declare const document: PageDocument;
import { ALIYUN_ID, seed } from './seed';


jest.setTimeout(90_000);

type Setup = (p: Page, base: string) => Promise<void>;

const pages: [string, Setup][] = [
  [
    'sign-in',
    async (p, base) => {
      await p.goto(`${base}/console/`);
      await p.getByRole('button', { name: 'Sign out' }).or(p.getByRole('button', { name: '退出' })).click();
      await p.getByLabel('Token', { exact: true }).waitFor();
    },
  ],
  [
    'search with results',
    async (p, base) => {
      await p.goto(`${base}/console/search?q=13800138000`);
      await p.locator('table.results tbody tr').first().waitFor();
    },
  ],
  [
    'message page, a report expanded',
    async (p, base) => {
      await p.goto(`${base}/console/messages/aliyun/${encodeURIComponent(ALIYUN_ID)}?recipient=13800138000&account=default`);
      await p.locator('ol.timeline summary').first().click();
      await p.locator('ol.timeline .raw').first().waitFor();
      await p.locator('li.event.current li, li.event.current p.muted').last().waitFor();
    },
  ],
  [
    'raw log',
    async (p, base) => {
      await p.goto(`${base}/console/raw`);
      await p.locator('main table').first().waitFor();
    },
  ],
  [
    'raw request with a dry-run diff',
    async (p, base) => {
      await p.goto(`${base}/console/raw?verdict=signature_invalid`);
      await p.locator('main table').first().getByRole('link').first().click();
      await p.locator('.raw').waitFor();
      await p.locator('section.panel button').first().click(); // the dry run
      await p.locator('.result').waitFor();
    },
  ],
  [
    'health',
    async (p, base) => {
      await p.goto(`${base}/console/health`);
      await p.locator('figure.chart svg[role="img"]').nth(2).waitFor();
      await p.locator('.tiles').nth(1).waitFor();
      for (const s of await p.locator('details.chart-data > summary').all()) await s.click();
    },
  ],
  [
    'subscriptions',
    async (p, base) => {
      await p.goto(`${base}/console/subscriptions`);
      await p.locator('main table').first().waitFor();
    },
  ],
  [
    'a subscription',
    async (p, base) => {
      await p.goto(`${base}/console/subscriptions`);
      await p.locator('main table').first().getByRole('link').first().click();
      await p.locator('li.delivery, main p:has-text("No deliveries"), main p:has-text("没有该状态")').first().waitFor();
    },
  ],
  [
    'audit',
    async (p, base) => {
      await p.goto(`${base}/console/audit`);
      await p.locator('table.audit').waitFor();
    },
  ],
];

describeBrowser('accessibility (axe-core)', () => {
  let server: ConsoleApp;
  let browser: Browser;

  beforeAll(async () => {
    server = await startConsoleApp(consoleConfig());
    await seed(server.app);
    expect((await adminPost(server.app, '/v1/subscriptions', { url: 'http://127.0.0.1:9/hook', description: 'billing' })).status).toBe(201);
    expect((await adminPost(server.app, '/v1/replay', { filter: { verdict: 'signature_invalid' }, dry_run: true })).status).toBe(200);
    expect((await adminGet(server.app, '/v1/audit')).body.items.length).toBe(1);
    browser = await launch();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const locale of ['en-US', 'zh-CN']) {
    it.each(pages)(`${locale}: %s`, async (_name, setup) => {
      const probe = await openPage(browser, server.base, { locale });
      try {
        await signIn(probe.page, server.base, ADMIN_TOKEN);
        expect(await probe.page.evaluate(() => document.documentElement.lang)).toBe(locale === 'en-US' ? 'en' : 'zh-CN');
        await setup(probe.page, server.base);
        expect(await axeViolations(probe.page)).toEqual([]);
        expect(probe.cspErrors).toEqual([]);
        expect(probe.pageErrors).toEqual([]);
      } finally {
        await probe.context.close();
      }
    });
  }
});

/**
 * Provider-supplied values are attacker-controlled: markup in message ids, error messages,
 * attributes, headers, raw bodies and URL names is shown as text and never runs.
 */
import type { Browser, Page } from 'playwright-core';
import { adminGet, ADMIN_TOKEN, consoleConfig, describeBrowser, launch, openPage, postCallback, signIn, startConsoleApp, type ConsoleApp, type PageProbe, type PageWindow } from './helpers';

declare const window: PageWindow;
import { aliyunReport } from './seed';


jest.setTimeout(90_000);

const SCRIPT = '<script>window.__xss=1</script>';
const IMG = '<img src=x onerror="window.__xss=1">';
const SVG = '<svg onload="window.__xss=1">';

describeBrowser('hostile values in the console', () => {
  let server: ConsoleApp;
  let browser: Browser;
  let probe: PageProbe;
  let rawBodyId: string;

  beforeAll(async () => {
    server = await startConsoleApp(consoleConfig());
    const json = 'application/json';
    const hostile = aliyunReport({ biz_id: SCRIPT, phone_number: '13800138000', success: false, err_code: SVG, err_msg: IMG, out_id: `${SCRIPT}${IMG}` });
    expect((await postCallback(server.app, '/v1/callbacks/aliyun', hostile, json, { 'x-evil': SCRIPT })).status).toBe(200);
    // a body that is no report at all: payload_invalid, kept in the raw log as sent
    expect((await postCallback(server.app, '/v1/callbacks/aliyun', `${IMG}${SCRIPT}`, 'text/html', { 'x-evil': IMG })).status).toBe(400);
    rawBodyId = (await adminGet(server.app, '/v1/raw?verdict=payload_invalid')).body.items[0].id;
    // markup in the provider name of the URL
    await postCallback(server.app, `/v1/callbacks/${encodeURIComponent('<img src=x onerror=window.__xss=1>')}`, '{}', json);
    browser = await launch();
    probe = await openPage(browser, server.base);
    await signIn(probe.page, server.base, ADMIN_TOKEN);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function assertInert(p: Page) {
    // give any injected handler a chance to run
    await p.waitForTimeout(300);
    expect(await p.evaluate(() => window.__xss)).toBeUndefined();
    expect(probe.dialogs).toEqual([]);
    expect(probe.cspErrors).toEqual([]);
    expect(probe.pageErrors).toEqual([]);
    expect(probe.foreign).toEqual([]);
    // no element came from the values: only the console's own
    expect(await p.locator('main script, main img, main iframe, main object, main embed').count()).toBe(0);
    expect(await p.locator('main svg:not([role="img"]):not(.swatch)').count()).toBe(0);
    // every link stays inside the console (or is the skip link)
    for (const a of await p.locator('a[href]').all()) expect(await a.getAttribute('href')).toMatch(/^(\/console\/[^"<>\s]*|#main)$/);
  }

  it('shows markup in search results as text', async () => {
    const p = probe.page;
    await p.getByRole('searchbox', { name: 'Search', exact: true }).fill(SCRIPT);
    await p.getByRole('searchbox', { name: 'Search', exact: true }).press('Enter');
    await p.locator('table.results tbody tr').first().waitFor();
    await p.locator('table.results').getByText(SCRIPT, { exact: true }).waitFor();
    await assertInert(p);
  });

  it('shows markup on the message page and in its raw request as text', async () => {
    const p = probe.page;
    await p.locator('table.results').getByRole('link', { name: SCRIPT }).click();
    await p.getByRole('heading', { name: 'Current status' }).waitFor();
    expect(decodeURIComponent(new URL(p.url()).pathname)).toBe(`/console/messages/aliyun/${SCRIPT}`);
    const main = p.locator('main');
    await main.getByText(IMG).first().waitFor(); // the error message
    await p.locator('ol.timeline summary').first().click();
    await p.getByRole('heading', { name: 'The request that carried it' }).waitFor();
    await main.locator('pre.code', { hasText: '"biz_id"' }).first().waitFor(); // the raw request's body arrives after its heading
    const text = await main.innerText();
    expect(text).toContain(`"biz_id": "${SCRIPT}"`); // the body, pretty-printed
    expect(text).toContain(SVG); // the error code
    expect(text).toContain(SCRIPT); // the x-evil header
    await assertInert(p);
  });

  it('shows a hostile raw body, header and provider name as text', async () => {
    const p = probe.page;
    await p.goto(`${server.base}/console/raw`);
    await p.locator('main table').first().waitFor();
    await p.locator('main table').getByText('<img src=x onerror=window.__xss=1>').first().waitFor();
    await assertInert(p);
    await p.goto(`${server.base}/console/raw/${rawBodyId}`);
    await p.getByRole('heading', { name: 'Headers' }).waitFor();
    const body = await p.locator('main pre.code').first().innerText();
    expect(body).toContain(IMG);
    expect(body).toContain(SCRIPT);
    await assertInert(p);
  });
});

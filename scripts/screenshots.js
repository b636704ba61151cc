#!/usr/bin/env node
/**
 * Screenshots of the operator console for docs/screenshots/: starts the BUILT server (dist/main.js,
 * with the console in dist/console: `npm run build` first) on a temporary SQLite database on
 * 127.0.0.1, seeds it with fixtures (several providers, a failed message, a signature_invalid
 * request, a subscription with a dead delivery), restarts it with the wrong secret fixed, and
 * photographs the main pages with Debian's Chromium (/usr/bin/chromium) at 1280×800.
 *
 *   node scripts/screenshots.js [outDir]      (default docs/screenshots)
 */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs/screenshots'));
const CHROMIUM = process.env.DLR_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ADMIN = 'screenshot-admin-token-0123456789';
const FIX = path.join(ROOT, 'fixtures');
const VIEWPORT = { width: 1280, height: 800 };

function resolveDev(name) {
  return require.resolve(name, { paths: [ROOT, path.join(ROOT, 'console')] });
}

function fail(message) {
  process.stderr.write(`screenshots: ${message}\n`);
  process.exit(1);
}

/** Starts dist/main.js; resolves with its port once it logs that it listens. */
function startServer(dir, config) {
  const configFile = path.join(dir, 'dlr.config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'dlr.sqlite')}`,
      DLR_CONFIG: configFile,
      DLR_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the server did not start within 20 s')), 20_000);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const entry = JSON.parse(line);
          if (entry.port && /listening/.test(entry.msg ?? '')) {
            clearTimeout(timer);
            child.removeAllListeners('exit');
            child.stdout.resume();
            resolve({
              url: `http://127.0.0.1:${entry.port}`,
              stop: () =>
                new Promise((r) => {
                  child.on('exit', r);
                  child.kill('SIGTERM');
                }),
            });
          }
        } catch {
          /* not a log line */
        }
      }
    });
  });
}

async function call(base, method, pathname, body, headers = {}) {
  const res = await fetch(base + pathname, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function callback(base, pathname, file, contentType) {
  const body = Buffer.isBuffer(file) ? file : fs.readFileSync(path.join(FIX, file));
  return fetch(base + pathname, { method: 'POST', headers: { 'content-type': contentType }, body }).then((r) => r.status);
}

function aliyun(over) {
  return Buffer.from(
    JSON.stringify([
      {
        phone_number: '13700137001',
        send_time: '2024-05-06 10:15:02',
        report_time: '2024-05-06 10:15:09',
        success: true,
        err_code: 'DELIVERED',
        err_msg: '用户接收成功',
        sms_size: '1',
        biz_id: 'shop-7781^0',
        out_id: 'order-7781',
        ...over,
      },
    ]),
  );
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing (apt-get install chromium)`);
  if (!fs.existsSync(path.join(ROOT, 'dist/main.js'))) fail('dist/main.js is missing: npm run build');
  if (!fs.existsSync(path.join(ROOT, 'dist/console/index.html'))) fail('dist/console is missing: build the console (cd console && npx vite build)');
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-screenshots-'));

  // a subscriber on loopback that takes every event
  const hook = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${hook.address().port}/dlr-events`;

  const config = (shopToken) => ({
    providers: {
      aliyun: { accounts: { default: {}, shop: shopToken ? { token: shopToken } : {} } },
      tencent: { accounts: { default: {} } },
      ronglian: { accounts: { default: {} } },
      twilio: { accounts: { default: { authToken: 'twilio-auth-token-1', publicUrl: 'https://dlr.example.com' } } },
    },
    tokens: [{ name: 'support', token: 'support-read-token-0123', scopes: ['read'] }],
    delivery: { allowPrivateNetworks: true, retryScheduleSeconds: [0.5] },
  });

  let server = await startServer(dir, config('shop-callback-secret'));
  let browser;
  try {
    let base = server.url;
    const subs = [
      await call(base, 'POST', '/v1/subscriptions', { url: hookUrl, description: 'Order service', filter: { types: ['message.status'] } }),
      await call(base, 'POST', '/v1/subscriptions', {
        url: 'http://127.0.0.1:9/crm-webhook',
        description: 'CRM (down)',
        filter: { providers: ['aliyun', 'tencent'] },
      }),
    ];
    if (subs.some((s) => s.status !== 201)) fail(`subscriptions: ${JSON.stringify(subs.map((s) => s.body))}`);
    const posted = [
      await callback(base, '/v1/callbacks/aliyun', 'aliyun/smsreport-batch.json', 'application/json'),
      await callback(base, '/v1/callbacks/aliyun', 'aliyun/smsreport-batch.json', 'application/json'), // the same again: duplicates
      await callback(base, '/v1/callbacks/aliyun', 'aliyun/seed-no-success.json', 'application/json'),
      await callback(base, '/v1/callbacks/tencent', 'tencent/status-array.json', 'application/json'),
      await callback(base, '/v1/callbacks/ronglian', 'ronglian/smsarrived-failed.xml', 'application/xml'),
      await callback(base, '/v1/callbacks/ronglian', 'ronglian/form-respcode.txt', 'application/x-www-form-urlencoded'),
      await callback(base, '/v1/callbacks/twilio', 'twilio/status-undelivered.txt', 'application/x-www-form-urlencoded'), // unsigned: signature_invalid
      await callback(base, '/v1/callbacks/aliyun/shop', aliyun({}), 'application/json'), // no ?token=: signature_invalid
      await callback(
        base,
        '/v1/callbacks/aliyun/shop',
        aliyun({ biz_id: 'shop-7782^0', phone_number: '13700137002', success: false, err_code: 'MK:0001', err_msg: '号码状态异常' }),
        'application/json',
      ),
    ];
    process.stdout.write(`callbacks answered ${posted.join(' ')}\n`);
    await call(base, 'POST', '/v1/messages', {
      provider: 'aliyun',
      message_id: '893412315000000000^0',
      recipient: '13900139000',
      reference: 'order-42',
      metadata: { customer: 'C-1001', template: 'SMS_154950909' },
    });
    // let the CRM deliveries die (schedule [0.5]) and the others succeed
    await new Promise((r) => setTimeout(r, 3000));

    // the shop's secret was wrong: fixed, restarted on the same database
    await server.stop();
    server = await startServer(dir, config(null));
    base = server.url;

    const { chromium } = require(resolveDev('playwright-core'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    page.on('console', (m) => {
      if (m.type() === 'error') process.stderr.write(`console: ${m.text()}\n`);
    });
    const shot = async (name, fullPage = false) => {
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
      process.stdout.write(`wrote ${path.relative(ROOT, path.join(OUT, `${name}.png`))}\n`);
    };

    await page.goto(`${base}/console/search`);
    await page.getByLabel('Token', { exact: true }).fill(ADMIN);
    await page.getByLabel('Token', { exact: true }).press('Enter');
    await page.getByRole('searchbox', { name: 'Search', exact: true }).fill('13900139000');
    await page.getByRole('searchbox', { name: 'Search', exact: true }).press('Enter');
    await page.locator('table.results tbody tr').first().waitFor();
    await shot('search');

    await page.locator('table.results').getByRole('link', { name: '893412315000000000^0' }).click();
    await page.locator('ol.timeline summary').first().waitFor();
    await page.locator('ol.timeline summary').first().click();
    await page.locator('ol.timeline pre.code').first().waitFor();
    await shot('message', true);

    const raws = await call(base, 'GET', '/v1/raw?provider=aliyun&account=shop');
    const shopRaw = raws.body.items.find((r) => r.body.content.includes('shop-7781'));
    await page.goto(`${base}/console/raw/${shopRaw.id}`);
    await page.getByRole('button', { name: 'Dry run', exact: true }).click();
    await page.locator('.result').waitFor();
    await shot('raw-dry-run');

    await page.goto(`${base}/console/raw`);
    await page.locator('main table').first().waitFor();
    await shot('raw-log');

    await page.goto(`${base}/console/health`);
    await page.locator('figure.chart svg[role="img"]').nth(2).waitFor();
    await page.locator('#outbox-h').waitFor();
    await shot('health', true);

    await page.goto(`${base}/console/subscriptions`);
    await page.locator('main table').first().waitFor();
    await shot('subscriptions');

    const crm = subs[1].body.id;
    await page.goto(`${base}/console/subscriptions/${crm}?state=dead`);
    await page.locator('li.delivery').first().waitFor();
    await page.getByText('Attempts', { exact: true }).first().click();
    await page.locator('li.delivery table').first().waitFor();
    await shot('subscription-dead');

    await page.goto(`${base}/console/audit`);
    await page.locator('table.audit, main p').first().waitFor();
    await shot('audit');
  } finally {
    await browser?.close();
    await server.stop();
    hook.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err.stack ?? String(err)));

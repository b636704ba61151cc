/**
 * The console's end-to-end tests: the real server (startTestApp) serving the built console at
 * /console/, driven by Debian's Chromium through playwright-core. Without /usr/bin/chromium the
 * suites skip, saying so (like the PostgreSQL project).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';


/**
 * The few browser globals the tests read inside page.evaluate callbacks (which run in the page).
 * The root tsconfig has no DOM lib (adding it would retype the server's code), so each test file
 * declares the ones it uses with these shapes.
 */
export interface PageElement {
  id: string;
  textContent: string | null;
}
export interface PageDocument {
  activeElement: PageElement | null;
  documentElement: { lang: string };
  cookie: string;
  querySelector(selectors: string): PageControl | null;
}
export interface PageControl extends PageElement {
  value: string;
  click(): void;
  dispatchEvent(event: unknown): boolean;
}
export interface PageStorage {
  readonly length: number;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
export interface PageWindow {
  __xss?: unknown;
  axe?: { run(context: unknown, options: object): Promise<{ violations: AxeViolation[] }> };
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string }[];
}
declare const window: PageWindow, document: PageDocument;

export const CHROMIUM = process.env.DLR_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ROOT = path.resolve(__dirname, '../..');
export const DIST = path.join(ROOT, 'dist/console');
export const READ_TOKEN = 'read-token-0123456789';
export { ADMIN_TOKEN };

export const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium && !process.env.DLR_TEST_CONSOLE_QUIET) {
  process.stderr.write(`Console browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium).\n`);
  process.env.DLR_TEST_CONSOLE_QUIET = '1';
}
/** `describe`, or `describe.skip` without Chromium. */
export const describeBrowser = hasChromium ? describe : describe.skip;

/** A package from the root's node_modules, or from console/'s until the lead moves it to the root. */
export function resolveDev(name: string): string {
  return require.resolve(name, { paths: [ROOT, path.join(ROOT, 'console')] });
}

export async function launch(): Promise<Browser> {
  const { chromium } = (await import(resolveDev('playwright-core'))) as typeof import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** The config of the console suites: the seed providers, Mailgun (e-mail), a read-only token. */
export function consoleConfig(extra: Record<string, unknown> = {}): object {
  return {
    providers: {
      aliyun: { accounts: { default: {}, shop: { token: 'shop-callback-token' } } },
      tencent: { accounts: { default: {} } },
      ronglian: { accounts: { default: {} } },
      mailgun: { accounts: { default: { signingKey: MAILGUN_KEY } } },
    },
    tokens: [{ name: 'support', token: READ_TOKEN, scopes: ['read'] }],
    delivery: { allowPrivateNetworks: true },
    // one browser and the tests' own checks share 127.0.0.1: no per-address API limit here
    server: { rateLimit: { api: false } },
    ...extra,
  };
}
export const MAILGUN_KEY = 'mailgun-signing-key-0123456789';

export interface ConsoleApp {
  app: TestApp;
  /** Where the browser goes: the app itself. */
  base: string;
  close(): Promise<void>;
}

/**
 * The server with the built console. Fails (not skips) when dist/console was not built or the
 * server does not serve it: those are bugs, not a missing browser.
 */
export async function startConsoleApp(config: object, opts: { dir?: string } = {}): Promise<ConsoleApp> {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error('dist/console/index.html is missing: build the console first (cd console && npx vite build, or npm run build)');
  }
  const app = await startTestApp(config, {}, opts);
  const res = await fetch(`${app.url}/console/`, { redirect: 'manual' });
  if (res.status !== 200 || !(res.headers.get('content-type') ?? '').includes('text/html')) {
    await app.close();
    const where = res.headers.get('location') ? ` to ${res.headers.get('location')}` : '';
    throw new Error(`GET /console/ answered ${res.status}${where} (${res.headers.get('content-type')}): the server does not serve dist/console at /console/`);
  }
  return { app, base: app.url, close: () => app.close() };
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** POSTs a callback body as bytes. */
export async function postCallback(app: TestApp, pathname: string, body: string | Buffer, contentType: string, headers: Record<string, string> = {}) {
  return request(app.url)
    .post(pathname)
    .set({ 'content-type': contentType, ...headers })
    .serialize((b: unknown) => b as string)
    .send(Buffer.isBuffer(body) ? body : Buffer.from(body));
}

export function adminGet(app: TestApp, pathname: string) {
  return request(app.url).get(pathname).set(admin);
}

export function adminPost(app: TestApp, pathname: string, body: object) {
  return request(app.url).post(pathname).set(admin).send(body);
}

export interface PageProbe {
  page: Page;
  context: BrowserContext;
  /** Console messages naming the Content Security Policy (inline script/style refused, …). */
  cspErrors: string[];
  pageErrors: string[];
  /** Requests to anything but the app's own origin. */
  foreign: string[];
  dialogs: string[];
}

/** A fresh context (its own sessionStorage) and page, recording CSP errors, page errors, dialogs and foreign requests. */
export async function openPage(browser: Browser, base: string, opts: { locale?: string; bypassCSP?: boolean } = {}): Promise<PageProbe> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: opts.locale ?? 'en-US', bypassCSP: opts.bypassCSP ?? false });
  const page = await context.newPage();
  const probe: PageProbe = { page, context, cspErrors: [], pageErrors: [], foreign: [], dialogs: [] };
  const origin = new URL(base).origin;
  page.on('console', (m) => {
    if (/content security policy/i.test(m.text())) probe.cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => probe.pageErrors.push(e.message));
  page.on('dialog', (d) => {
    probe.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:')) probe.foreign.push(u);
  });
  return probe;
}

/** Opens the console and signs in with `token` through the Token field. */
export async function signIn(page: Page, base: string, token: string, at = '/console/'): Promise<void> {
  await page.goto(`${base}${at}`);
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByLabel('Token', { exact: true }).press('Enter');
  await page.getByRole('button', { name: /^(Sign out|退出)$/ }).waitFor();
}

let axeSource: string | null = null;

/**
 * axe-core's serious and critical violations on the page as it is. axe is injected with
 * page.evaluate (a DevTools evaluation, which the page's CSP does not govern), so the page keeps its
 * real CSP during the check.
 */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  axeSource ??= fs.readFileSync(resolveDev('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => window.axe !== undefined);
  if (!loaded) await page.evaluate(`${axeSource}\n;void 0`);
  const result = await page.evaluate(async () => {
    const r = await window.axe!.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)} ${n.html.slice(0, 160)}`) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Polls `check` every 200 ms until it answers truthy (an exception counts as not yet). */
export async function poll<T>(check: () => Promise<T | undefined | false | null>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: string | null = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : JSON.stringify(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

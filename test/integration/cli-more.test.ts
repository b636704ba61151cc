import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { dlr, type CliRun } from '../helpers/cli';
import { dropDatabaseFor } from '../helpers/db';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';
import { displayWidth, formatTable, printable } from '../../src/cli/table';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** The callback token, read by the config as env:DLR_CLI_TEST_TOKEN: the CLI runs without it unless given. */
const TOKEN = 'cli-test-token-0123';
const SECRET_ENV = { DLR_CLI_TEST_TOKEN: TOKEN };
const BATCH_ID = '893412315000000000^0'; // fixtures/aliyun/smsreport-batch.json: one id, two recipients

/** Each run of the CLI is a node process (about a second on a busy machine): tests running many take longer than the default. */
jest.setTimeout(90_000);

/** Local dates around today: the report counts messages on the day they were first seen (today). */
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

/**
 * The columns of a table: every header's start, in display columns, must have the two-space gap
 * before it on every line (so every cell of the column starts at the same place).
 */
function expectAligned(table: string[]): void {
  const cells = (line: string) => [...line].flatMap((ch) => (displayWidth(ch) === 2 ? [ch, ''] : [ch]));
  const header = cells(table[0]);
  const starts = header.map((ch, i) => (ch !== ' ' && i >= 2 && header[i - 1] === ' ' && header[i - 2] === ' ' ? i : -1)).filter((i) => i > 0);
  expect(starts.length).toBeGreaterThan(0);
  for (const line of table.slice(1)) {
    const row = cells(line);
    for (const s of starts) {
      if (s >= row.length) continue; // a trailing empty cell is trimmed
      expect([row[s - 2], row[s - 1]]).toEqual([' ', ' ']);
    }
  }
}

function json<T = Record<string, unknown>>(r: CliRun): T {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

describe('the dlr CLI: messages, stats, subscriptions, deliveries and safety', () => {
  let app: TestApp;
  let sub: Subscriber;
  let run: (args: string[], opts?: Parameters<typeof dlr>[3]) => Promise<CliRun>;
  let subscriptionId: string;
  let secret: string;

  beforeAll(async () => {
    sub = await startSubscriber();
    app = await startTestApp(seedConfig({ token: 'env:DLR_CLI_TEST_TOKEN' }), SECRET_ENV);
    run = (args, opts) => dlr(app.dir, args, undefined, opts);
    // created with the CLI before the reports come, so their events are queued for it
    const created = await run(['subscriptions', 'create', '--url', sub.url, '--providers', 'aliyun', '--statuses', 'delivered,failed', '--json'], {
      env: SECRET_ENV,
    });
    const body = json<{ id: string; secret: string }>(created);
    subscriptionId = body.id;
    secret = body.secret;
    const fx = fixture('aliyun', 'smsreport-batch');
    await request(app.url).post(`/v1/callbacks/aliyun?token=${TOKEN}`).set('content-type', fx.contentType).send(fx.body.toString()).expect(200);
    const tx = fixture('tencent', 'status-array');
    await request(app.url).post(`/v1/callbacks/tencent?token=${TOKEN}`).set('content-type', tx.contentType).send(tx.body.toString()).expect(200);
    await waitFor(() => sub.received.length >= 2, 'the two aliyun events delivered');
  });
  afterAll(async () => {
    await app.close();
    await sub.close();
  });

  describe('version, help, a missing build', () => {
    it('prints the package version', async () => {
      const { version } = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
      for (const flag of ['--version', '-v']) expect(await run([flag])).toMatchObject({ code: 0, stdout: `${version}\n` });
    });

    it('lists the environment and the exit codes in its help', async () => {
      const help = await run(['--help']);
      expect(help.code).toBe(0);
      for (const word of ['DATABASE_URL', 'DLR_CONFIG', 'LOG_LEVEL', 'Exit codes: 0 done, 1 failed, 2 bad usage or config, 3 not found', '--json']) {
        expect(help.stdout).toContain(word);
      }
      for (const args of [['messages', 'show'], ['messages', 'list'], ['stats'], ['subscriptions', 'create'], ['deliveries', 'retry']]) {
        const r = await run([...args, '--help']);
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^Usage: dlr/);
        expect(r.stdout).toContain('--json');
        expect(r.stdout).toContain('Exit codes:');
      }
    });

    it('says the build is missing in one line, without a module stack', async () => {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-cli-nobuild-'));
      try {
        fs.mkdirSync(path.join(copy, 'bin'));
        fs.copyFileSync(path.resolve(__dirname, '../../bin/dlr.js'), path.join(copy, 'bin/dlr.js'));
        const r = await run(['--version'], { bin: path.join(copy, 'bin/dlr.js') });
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(lines(r.stderr)).toEqual([`dlr: the build is missing (no ${path.join(copy, 'dist/cli/main.js')}): run \`npm run build\` in ${copy} first`]);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    });
  });

  describe('read-only commands without the provider secrets', () => {
    it('shows a message and its timeline as a table (the id covers two recipients: --recipient)', async () => {
      const r = await run(['messages', 'show', 'aliyun', BATCH_ID, '--recipient', '13900139000']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = lines(r.stdout);
      expect(out[0]).toBe('provider     aliyun (account default, sms)');
      expect(out).toContain('status       failed (final), version 1');
      expect(out).toContain('error        MK:0001 号码状态异常');
      const timeline = out.slice(out.findIndex((l) => l.startsWith('timeline: 1 report(s)')) + 1);
      expect(timeline[0]).toMatch(/^RECEIVED +OCCURRED +REPORT +ERROR +APPLIED +RAW ID$/);
      expect(timeline[1]).toMatch(/ 2024-05-06T02:15:11\.000Z +failed +MK:0001 号码状态异常 +yes +raw_[0-9A-Z]{26}$/);
      expectAligned(timeline);

      const asJson = json<{ message: { status: string }; history: unknown[] }>(
        await run(['messages', 'show', 'aliyun', BATCH_ID, '--recipient', '13900139000', '--json']),
      );
      const http = await request(app.url)
        .get(`/v1/messages/aliyun/${encodeURIComponent(BATCH_ID)}?recipient=13900139000`)
        .set(admin)
        .expect(200);
      expect(asJson).toEqual(http.body);
    });

    it('lists the recipients of an ambiguous id and exits 2 with a hint', async () => {
      const r = await run(['messages', 'show', 'aliyun', BATCH_ID]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `dlr messages show: aliyun ${BATCH_ID} names 2 recipient(s) in 1 account(s):`,
        '  13800138000',
        '  13900139000',
        'add --recipient, e.g. --recipient 13800138000',
      ]);
      const missing = await run(['messages', 'show', 'aliyun', 'no-such-id']);
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/^dlr: not found: /);
    });

    it("lists messages with the API's filters, as a table and as JSON, a page at a time", async () => {
      const table = await run(['messages', 'list', '--provider', 'aliyun']);
      expect(table.code).toBe(0);
      const rows = lines(table.stdout);
      expect(rows[0]).toMatch(/^UPDATED +PROVIDER +MESSAGE ID +RECIPIENT +STATUS +V +ERROR +STALE$/);
      expect(rows).toHaveLength(3);
      expect(
        rows
          .slice(1)
          .map((l) => l.split(/ {2,}/)[4])
          .sort(),
      ).toEqual(['delivered', 'failed']);
      expectAligned(rows);

      const all = json<{ items: { provider: string; status: string }[]; next_cursor: null }>(await run(['messages', 'list', '--json']));
      const http = await request(app.url).get('/v1/messages').set(admin).expect(200);
      expect(all).toEqual(http.body);
      expect(all.items.length).toBeGreaterThan(2);

      const failed = json<{ items: { status: string }[] }>(await run(['messages', 'list', '--provider', 'aliyun', '--status', 'failed', '--json']));
      expect(failed.items.map((m) => m.status)).toEqual(['failed']);
      expect(json<{ items: unknown[] }>(await run(['messages', 'list', '--stale', '--json'])).items).toEqual([]);
      expect(json<{ items: unknown[] }>(await run(['messages', 'list', '--no-stale', '--json'])).items).toHaveLength(all.items.length);
      expect(json<{ items: unknown[] }>(await run(['messages', 'list', '--since', '2999-01-01T00:00:00Z', '--json'])).items).toEqual([]);

      const first = await run(['messages', 'list', '--provider', 'aliyun', '--limit', '1']);
      const cursor = /^more: add --cursor (\S+)$/m.exec(first.stderr)?.[1];
      expect(cursor).toBeDefined();
      const second = json<{ items: { recipient: string }[]; next_cursor: null }>(
        await run(['messages', 'list', '--provider', 'aliyun', '--limit', '1', '--cursor', cursor!, '--json']),
      );
      expect(second.next_cursor).toBeNull();
      expect(lines(first.stdout)[1]).not.toContain(second.items[0].recipient);

      const bad = await run(['messages', 'list', '--status', 'lost']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/Allowed choices are queued, sent, deferred, delivered, failed, expired, rejected/);
    });

    it('prints the statistics as the API answers them, and as a table', async () => {
      const s = json<{ total: number; by_status: Record<string, number> }>(await run(['stats', '--provider', 'aliyun', '--json']));
      const http = await request(app.url).get('/v1/stats?provider=aliyun').set(admin).expect(200);
      expect(s).toEqual(http.body);
      expect(s).toMatchObject({ total: 2, by_status: { delivered: 1, failed: 1 }, delivery_rate: 0.5 });
      const table = await run(['stats', '--provider', 'aliyun']);
      expect(table.code).toBe(0);
      const out = lines(table.stdout);
      expect(out).toContain('delivery rate  50.0 % (1 of 2 final)');
      expect(out).toContain('PROVIDER  ERROR CODE  COUNT');
      expect(out).toContain('aliyun    MK:0001         1');
    });

    it('lists raw requests as a table, and the report, without the secret; a command that verifies needs it', async () => {
      const raw = await run(['raw', 'list', '--provider', 'aliyun']);
      expect(raw.code).toBe(0);
      expect(lines(raw.stdout)[0]).toMatch(/^ID +RECEIVED +PROVIDER +VERDICT +BYTES +DETAIL$/);
      expect(lines(raw.stdout)[1]).toMatch(/^raw_\S+ +\S+ +aliyun\/default +accepted +\d+ +-$/);
      const report = await run(['report', '--since', day(-2), '--until', day(2), '--by', 'provider,status', '--format', 'table']);
      expect(report.code).toBe(0);
      expect(lines(report.stdout)).toContain('Asia/Shanghai  aliyun    failed     MK:0001      1');
      expect(json<{ rows: unknown[] }>(await run(['report', '--since', day(-2), '--until', day(2), '--json'])).rows.length).toBeGreaterThan(0);

      const replay = await run(['replay', '--provider', 'aliyun', '--dry-run']);
      expect(replay.code).toBe(2);
      expect(replay.stderr).toMatch(/environment variable DLR_CLI_TEST_TOKEN is not set/);
      const withSecret = await run(['replay', '--provider', 'aliyun', '--dry-run'], { env: SECRET_ENV });
      expect(withSecret.code).toBe(0);
      const out = lines(withSecret.stdout);
      expect(out[0]).toMatch(/^RAW ID +PROVIDER +VERDICT +CHANGES +STATUS +DETAIL$/);
      // applied before: a duplicate now (old → new verdict)
      expect(out[1]).toMatch(/^raw_\S+ +aliyun\/default +accepted → duplicate +0 +- +-$/);
      expect(out[out.length - 1]).toBe('dry run: replayed 1; verdicts {"duplicate":1}; 0 status change(s) would be made');
    });
  });

  describe('subscriptions', () => {
    it('lists them without their secret', async () => {
      const table = await run(['subscriptions', 'list']);
      expect(table.code).toBe(0);
      expect(lines(table.stdout)[0]).toMatch(/^ID +ENABLED +URL +FILTER +DESCRIPTION +DISABLED REASON$/);
      expect(table.stdout).toContain(`${subscriptionId}  yes      ${sub.url}  providers=aliyun statuses=delivered,failed`);
      const list = json<{ items: Record<string, unknown>[] }>(await run(['subscriptions', 'list', '--json']));
      expect(list.items.map((s) => s.id)).toEqual([subscriptionId]);
      for (const r of [table, { stdout: JSON.stringify(list) }]) expect(r.stdout).not.toContain('whsec_');
    });

    it('creates one (the secret shown once), checks it in a dry run first, refuses a bad one with exit 2', async () => {
      const dry = await run(['subscriptions', 'create', '--url', sub.url, '--channels', 'email', '--description', 'mail team', '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(
        /^dry run: would create this subscription \(nothing was stored\):\n {2}url +http:\/\/127\.0\.0\.1:\d+\/hook\n {2}filter +channels=email\n/,
      );
      expect(dry.stdout).not.toContain('whsec_');
      const badDry = await run(['subscriptions', 'create', '--url', sub.url, '--channels', 'fax', '--dry-run']);
      expect(badDry.code).toBe(2);
      expect(badDry.stderr).toMatch(/^dlr: invalid subscription: /);
      expect(json<{ items: unknown[] }>(await run(['subscriptions', 'list', '--json'])).items).toHaveLength(1);

      const created = await run(['subscriptions', 'create', '--url', sub.url, '--channels', 'email', '--description', 'mail team', '--header', 'X-Team: mail']);
      expect(created.code).toBe(0);
      const shown = /^secret +(whsec_\S+)$/m.exec(created.stdout)?.[1];
      expect(shown).toBeDefined();
      const id = /^id +(sub_\S+)$/m.exec(created.stdout)![1];
      expect(created.stdout).toMatch(/^headers +X-Team$/m);
      expect(created.stdout).not.toMatch(/\bmail$/m); // the header's value is not printed in the table
      const got = await request(app.url).get(`/v1/subscriptions/${id}`).set(admin).expect(200);
      expect(got.body).toMatchObject({ description: 'mail team', filter: { channels: ['email'] }, headers: { 'X-Team': 'mail' } });
      await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
    });

    it('disables and enables one, with dry runs that change nothing', async () => {
      const enabled = async () =>
        ((await request(app.url).get(`/v1/subscriptions/${subscriptionId}`).set(admin).expect(200)).body as { enabled: boolean }).enabled;
      const dry = await run(['subscriptions', 'disable', subscriptionId, '--dry-run']);
      expect(dry).toMatchObject({ code: 0, stdout: `dry run: ${subscriptionId} is enabled: would disable it\n` });
      expect(await enabled()).toBe(true);
      const off = await run(['subscriptions', 'disable', subscriptionId, '--json']);
      expect(json(off)).toMatchObject({ id: subscriptionId, enabled: false, disabled_reason: 'disabled by request' });
      expect(await enabled()).toBe(false);
      const on = await run(['subscriptions', 'enable', subscriptionId]);
      expect(on.code).toBe(0);
      expect(on.stdout).toMatch(new RegExp(`^${subscriptionId} enabled\\n`));
      expect(await enabled()).toBe(true);
      const missing = await run(['subscriptions', 'disable', 'sub_01JD0000000000000000000000']);
      expect(missing.code).toBe(3);
    });

    it('sends a signed test event and shows the attempt; exit 1 when the subscriber fails', async () => {
      const before = sub.received.length;
      const r = await run(['subscriptions', 'test', subscriptionId]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^event +evt_\S+ \(webhook\.test\)\nresult +ok\nstatus +200\nduration +\d+ ms\nresponse +answer 200\n$/);
      const got = sub.received[before];
      const event = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as { type: string; subscription_id: string };
      expect(event).toMatchObject({ type: 'webhook.test', subscription_id: subscriptionId });

      sub.respond = () => 500;
      try {
        const failed = await run(['subscriptions', 'test', subscriptionId, '--json']);
        expect(failed.code).toBe(1);
        expect(JSON.parse(failed.stdout)).toMatchObject({ event: { type: 'webhook.test' }, attempt: { status_code: 500, error: 'HTTP 500' } });
      } finally {
        sub.respond = () => 200;
      }
    });

    it('rotates the secret: a dry run shows none, the rotation prints the new one once', async () => {
      const dry = await run(['subscriptions', 'rotate', subscriptionId, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).not.toContain('whsec_');
      const r = await run(['subscriptions', 'rotate', subscriptionId, '--json']);
      const rotated = json<{ secret: string; rotating_until: string }>(r);
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.secret).not.toBe(secret);
      expect(rotated.rotating_until).not.toBeNull();
      expect((await run(['subscriptions', 'list'])).stdout).not.toContain(rotated.secret);
    });
  });

  describe('deliveries', () => {
    it('lists the deliveries of a subscription and retries one', async () => {
      const list = json<{ items: { id: string; state: string; attempts: number }[] }>(
        await run(['deliveries', 'list', '--subscription', subscriptionId, '--state', 'succeeded', '--json']),
      );
      expect(list.items).toHaveLength(2);
      const table = await run(['deliveries', 'list', '--subscription', subscriptionId]);
      expect(table.code).toBe(0);
      const rows = lines(table.stdout);
      expect(rows[0]).toMatch(/^ID +EVENT +STATE +ATTEMPTS +LAST ATTEMPT +LAST STATUS +NEXT ATTEMPT +LAST ERROR$/);
      for (const row of rows.slice(1)) expect(row).toMatch(/^dlv_\S+ +evt_\S+ +succeeded +1 +\S+ +200 +- +-$/);
      expectAligned(rows);

      const id = list.items[0].id;
      const dry = await run(['deliveries', 'retry', id, '--dry-run']);
      expect(dry.stdout).toMatch(/^dry run: would queue attempt 2 of dlv_\S+ \(succeeded, 1 attempt\(s\) so far\)/);
      const state = async () => (await request(app.url).get(`/v1/deliveries/${id}`).set(admin).expect(200)).body as { state: string; attempts: number };
      expect(await state()).toMatchObject({ state: 'succeeded', attempts: 1 });

      const before = sub.received.length;
      const retried = await run(['deliveries', 'retry', id]);
      expect(retried.code).toBe(0);
      expect(retried.stdout).toMatch(/^queued attempt 2 of dlv_/);
      // the server's worker polls the outbox: the CLI cannot wake it
      await waitFor(async () => (await state()).attempts === 2, 'the retried attempt', 20_000);
      expect(sub.received.length).toBeGreaterThan(before);

      expect((await run(['deliveries', 'list', '--subscription', 'sub_01JD0000000000000000000000'])).code).toBe(3);
      expect((await run(['deliveries', 'list', '--subscription', subscriptionId, '--state', 'lost'])).code).toBe(2);
    });
  });

  describe('raw purge and import: look before changing', () => {
    it('refuses to purge without a terminal or --yes; --dry-run shows what would go', async () => {
      const count = async () => json<{ items: unknown[] }>(await run(['messages', 'list', '--json'])).items.length;
      const rawCount = async () => lines((await run(['raw', 'list', '--json', '--limit', '500'])).stdout).length;
      const n = await rawCount();
      expect(n).toBe(2);
      const refused = await run(['raw', 'purge', '--before', '2999-01-01T00:00:00Z']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/no terminal to confirm on: add --yes to go ahead \(or --dry-run to only look\)/);
      const dry = await run(['raw', 'purge', '--before', '2999-01-01T00:00:00Z', '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(
        /^dry run: would purge 2 raw request\(s\) received from \S+Z to \S+Z \(before 2999-01-01T00:00:00\.000Z\); nothing was deleted\n$/,
      );
      const dryJson = json<{ would_purge: number; oldest: string }>(await run(['raw', 'purge', '--before', '2999-01-01T00:00:00Z', '--dry-run', '--json']));
      expect(dryJson).toMatchObject({ dry_run: true, would_purge: 2 });
      expect(await rawCount()).toBe(2);

      // on a terminal it asks; "n" keeps everything
      const declined = await run(['raw', 'purge', '--before', '2999-01-01T00:00:00Z'], { tty: true, input: 'n\n' });
      expect(declined.stdout).toMatch(/purge 2 raw request\(s\) received from .* \[y\/N\]/);
      expect(declined.stdout).toContain('nothing was deleted');
      expect(declined.code).toBe(1);
      expect(await rawCount()).toBe(2);

      // an export first, for the import below
      const exported = await run(['raw', 'export', '--include-credentials']);
      fs.writeFileSync(path.join(app.dir, 'export.ndjson'), exported.stdout);

      const yes = await run(['raw', 'purge', '--before', '2999-01-01T00:00:00Z'], { tty: true, input: 'y\n' });
      expect(yes.code).toBe(0);
      expect(yes.stdout).toContain('purged 2 raw requests');
      expect(await rawCount()).toBe(0);
      expect(await count()).toBeGreaterThan(2); // messages stay
      const again = await run(['raw', 'purge', '--before', '2999-01-01T00:00:00Z', '--yes']);
      expect(again).toMatchObject({ code: 0, stdout: 'nothing to purge: no raw requests were received before 2999-01-01T00:00:00.000Z\n' });
    });

    it('says what an import would do without storing anything', async () => {
      const file = path.join(app.dir, 'export.ndjson');
      const dry = await run(['raw', 'import', file, '--dry-run']);
      expect(dry).toMatchObject({ code: 0, stdout: 'dry run: read 2, would import 2, already present 0; nothing was stored\n' });
      expect(json(await run(['raw', 'import', file, '--dry-run', '--json']))).toEqual({
        dry_run: true,
        read: 2,
        would_import: 2,
        already_present: 0,
        by_provider: { aliyun: 1, tencent: 1 },
      });
      expect((await run(['raw', 'list', '--json'])).stdout).toBe('');
      fs.writeFileSync(path.join(app.dir, 'bad.ndjson'), '{"id":"raw_1"}\n');
      const bad = await run(['raw', 'import', path.join(app.dir, 'bad.ndjson'), '--dry-run']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toBe('dlr: line 1: "id" is not a raw request id\n');
    });
  });
});

describe('the CLI table formatter', () => {
  it('aligns columns by display width and escapes control characters', () => {
    const rows = [
      { a: 'x', b: '号码状态异常', n: 7 },
      { a: 'longer', b: 'ok', n: 1234 },
      { a: 'evil\u001b[31m\nline', b: null, n: 0 },
    ];
    const table = formatTable(rows, [
      { header: 'A', value: (r) => r.a },
      { header: 'B', value: (r) => r.b },
      { header: 'N', value: (r) => r.n, align: 'right' },
    ]);
    expect(table).toEqual([
      'A                     B                N',
      'x                     号码状态异常     7',
      'longer                ok            1234',
      'evil\\u001b[31m\\nline  -                0',
    ]);
    expect(printable('a\u202eb\u0085c\td')).toBe('a\\u202eb\\u0085c\\td');
    expect(formatTable([{ v: 'y'.repeat(200) }], [{ header: 'V', value: (r) => r.v }])[1]).toBe(`${'y'.repeat(79)}…`);
  });
});

describe('read-only commands and a config whose secrets are not in the environment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-cli-secrets-'));
  const config = path.join(dir, 'dlr.config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      providers: {
        // twilio requires authToken and publicUrl: the account is loaded without them, its timeZone kept
        twilio: { accounts: { default: { authToken: 'env:DLR_CLI_UNSET_TWILIO', publicUrl: 'https://dlr.example.com', timeZone: 'UTC' } } },
        aliyun: { accounts: { default: { token: 'env:DLR_CLI_UNSET_ALIYUN' } } },
      },
      tokens: [{ token: 'env:DLR_CLI_UNSET_API', scopes: ['read'] }],
    }),
  );
  afterAll(async () => {
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists, counts and reports; replay, which verifies, names the variables it lacks', async () => {
    expect(json(await dlr(dir, ['messages', 'list', '--json'], config))).toEqual({ items: [], next_cursor: null });
    expect(json(await dlr(dir, ['stats', '--json'], config))).toMatchObject({ total: 0 });
    expect(json(await dlr(dir, ['subscriptions', 'list', '--json'], config))).toEqual({ items: [] });
    const report = await dlr(dir, ['report', '--since', '2026-01-01', '--until', '2026-01-02'], config);
    expect(report).toMatchObject({ code: 0, stderr: '', stdout: 'day,time_zone,provider,account,status,error_code,count\r\n' });
    const replay = await dlr(dir, ['replay', '--provider', 'twilio'], config);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/providers\.twilio\.accounts\.default\.authToken: environment variable DLR_CLI_UNSET_TWILIO is not set/);
    const check = await dlr(dir, ['config', 'check', '--json'], config);
    expect(check.code).toBe(2);
    expect(JSON.parse(check.stdout)).toMatchObject({
      valid: false,
      errors: expect.arrayContaining([expect.stringMatching(/DLR_CLI_UNSET_ALIYUN is not set/)]),
    });
  });
});

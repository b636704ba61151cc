import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, startTestApp } from '../helpers/app';
import { dlr } from '../helpers/cli';
import { dropDatabaseFor } from '../helpers/db';
import { fixture } from '../helpers/fixtures';
import { mailgunSigned } from '../helpers/sign';
import { newId } from '../../src/util/ids';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const KEY = 'key-mailgun-signing-0123456789';
const URL_TOKEN = 'the-url-token-0123';
const CONFIG = {
  providers: {
    mailgun: { accounts: { default: { signingKey: KEY } } },
    aliyun: { accounts: { default: { token: URL_TOKEN } } },
    tencent: { accounts: { default: {} } },
  },
};

const dirs: string[] = [];
/** A folder with the config file and a database of its own. */
function instance(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-transfer-'));
  fs.writeFileSync(path.join(dir, 'dlr.config.json'), JSON.stringify(CONFIG));
  dirs.push(dir);
  return dir;
}

/** Runs the built `dlr` binary against the database in `dir`. */
async function show(dir: string, id: string) {
  const r = await dlr(dir, ['raw', 'show', id, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { verdict: string; detail: string | null; url: string; received_at: string; events: unknown[] };
}

afterAll(async () => {
  for (const dir of dirs) {
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('dlr raw import: timestamps are checked against the import time', () => {
  // A correctly signed Mailgun request whose timestamp is a month old, in a file whose
  // received_at says it arrived right then: the file, not the service, vouches for the time.
  const at = Math.floor(Date.now() / 1000) - 30 * 24 * 3600;
  const id = newId('raw');
  const line = JSON.stringify({
    id,
    provider: 'mailgun',
    account: 'default',
    method: 'POST',
    url: '/v1/callbacks/mailgun',
    headers: { 'content-type': 'application/json' },
    body_base64: Buffer.from(mailgunSigned(fixture('mailgun', 'failed-permanent').body, KEY, { timestamp: at })).toString('base64'),
    remote_addr: '10.0.0.1',
    received_at: new Date(at * 1000 + 2000).toISOString(),
    verdict: 'accepted',
    detail: null,
  });

  it('refuses a stale signed request unless --trust-received-at is given', async () => {
    const dir = instance();
    const file = path.join(dir, 'old.ndjson');
    fs.writeFileSync(file, `${line}\n`);
    const before = Date.now();
    const r = await dlr(dir, ['raw', 'import', file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 1, imported: 1, by_verdict: { signature_invalid: 1 }, changes: 0 });
    const raw = await show(dir, id);
    expect(raw.verdict).toBe('signature_invalid');
    expect(raw.detail).toMatch(/^signature\.timestamp is \d+ s old, more than the 300 s tolerance/);
    expect(raw.detail).toMatch(/checked against the import time .*not the file's received_at .*--trust-received-at/);
    expect(raw.events).toEqual([]);
    // the service vouches for the import time, not the file's: a later replay refuses it too
    expect(Date.parse(raw.received_at)).toBeGreaterThanOrEqual(before - 1000);
    const replayed = await dlr(dir, ['replay', '--id', id, '--json']);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ verdict: 'signature_invalid', changes: [] });
    expect((await show(dir, id)).events).toEqual([]);
  });

  it('accepts it with --trust-received-at (documented for files this service exported)', async () => {
    const dir = instance();
    const help = await dlr(dir, ['raw', 'import', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/--trust-received-at .*only for files this service exported/);
    const file = path.join(dir, 'old.ndjson');
    fs.writeFileSync(file, `${line}\n`);
    const r = await dlr(dir, ['raw', 'import', file, '--trust-received-at', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 1, imported: 1, by_verdict: { accepted: 1 }, changes: 1, unverifiable: [] });
    const raw = await show(dir, id);
    expect(raw).toMatchObject({ verdict: 'accepted', detail: null, received_at: new Date(at * 1000 + 2000).toISOString() });
    // the report's receive time is the file's, not the time the request's id names (its history row keeps it)
    expect(raw.events).toEqual([expect.objectContaining({ received_at: new Date(at * 1000 + 2000).toISOString() })]);
  });

  it('refuses a token already used in this database, whatever the file says', async () => {
    const dir = instance();
    const genuine = mailgunSigned(fixture('mailgun', 'failed-permanent').body, KEY);
    const copy = JSON.parse(genuine) as { 'event-data': { event: string; severity?: string } };
    copy['event-data'].event = 'delivered';
    delete copy['event-data'].severity;
    const now = new Date().toISOString();
    const lineOf = (body: string) =>
      JSON.stringify({
        id: newId('raw'),
        provider: 'mailgun',
        account: 'default',
        method: 'POST',
        url: '/v1/callbacks/mailgun',
        headers: { 'content-type': 'application/json' },
        body_base64: Buffer.from(body).toString('base64'),
        remote_addr: '10.0.0.1',
        received_at: now,
        verdict: 'accepted',
        detail: null,
      });
    const first = lineOf(genuine);
    const second = lineOf(JSON.stringify(copy));
    const file = path.join(dir, 'two.ndjson');
    fs.writeFileSync(file, `${first}\n${second}\n`);
    const r = await dlr(dir, ['raw', 'import', file, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: 2, by_verdict: { accepted: 1, signature_invalid: 1 }, changes: 1 });
    const refused = await show(dir, (JSON.parse(second) as { id: string }).id);
    expect(refused.detail).toBe(`this signature token was used by ${(JSON.parse(first) as { id: string }).id} (replayed request)`);
  });
});

describe('dlr raw export: credentials are redacted unless asked for', () => {
  const source = instance();
  let tokenId: string;
  let plainId: string;

  beforeAll(async () => {
    const app = await startTestApp(CONFIG, { DLR_WORKER: 'off' }, { dir: source });
    try {
      await request(app.url)
        .post(`/v1/callbacks/aliyun?token=${URL_TOKEN}`)
        .set({ 'content-type': 'application/json', authorization: 'Basic c2VjcmV0LXVzZXI6cGFzcw==', cookie: 'session=cookie-secret-42' })
        .send(JSON.stringify([{ phone_number: '13800138000', biz_id: 'exp-1', success: true, report_time: '2024-05-06 10:15:09' }]))
        .expect(200);
      tokenId = (await request(app.url).get('/v1/raw?provider=aliyun').set(admin).expect(200)).body.items[0].id;
      const fx = fixture('tencent', 'status-array');
      await request(app.url).post('/v1/callbacks/tencent').set('content-type', fx.contentType).send(fx.body.toString()).expect(200);
      plainId = (await request(app.url).get('/v1/raw?provider=tencent').set(admin).expect(200)).body.items[0].id;
    } finally {
      await app.close();
    }
  });

  const linesOf = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; url: string; headers: Record<string, string>; redacted?: boolean });

  it('redacts ?token=, Authorization and Cookie by default and marks the lines it redacted', async () => {
    const r = await dlr(source, ['raw', 'export']);
    expect(r.code).toBe(0);
    for (const secret of [URL_TOKEN, 'c2VjcmV0LXVzZXI6cGFzcw', 'cookie-secret-42']) expect(r.stdout).not.toContain(secret);
    const [withToken, plain] = linesOf(r.stdout);
    expect(withToken).toMatchObject({ id: tokenId, redacted: true, headers: { authorization: '[redacted]', cookie: '[redacted]' } });
    expect(withToken.url).toMatch(/^\/v1\/callbacks\/aliyun\?token=/);
    expect(plain.id).toBe(plainId);
    expect(plain.redacted).toBeUndefined();
    expect(r.stderr).toMatch(/exported 2 raw requests \(credentials redacted in 1; --include-credentials keeps them\)/);
  });

  it('keeps them with --include-credentials', async () => {
    const help = await dlr(source, ['raw', 'export', '--help']);
    expect(help.stdout).toContain('--include-credentials');
    const r = await dlr(source, ['raw', 'export', '--include-credentials']);
    expect(r.code).toBe(0);
    const [withToken] = linesOf(r.stdout);
    expect(withToken).toMatchObject({
      url: `/v1/callbacks/aliyun?token=${URL_TOKEN}`,
      headers: { authorization: 'Basic c2VjcmV0LXVzZXI6cGFzcw==', cookie: 'session=cookie-secret-42' },
    });
    expect(withToken.redacted).toBeUndefined();

    const target = instance();
    const file = path.join(target, 'full.ndjson');
    fs.writeFileSync(file, r.stdout);
    const imported = await dlr(target, ['raw', 'import', file, '--json']);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 2, by_verdict: { accepted: 2 }, unverifiable: [] });
  });

  it('says which requests of a redacted export cannot be verified again on import', async () => {
    const r = await dlr(source, ['raw', 'export']);
    const target = instance();
    const file = path.join(target, 'redacted.ndjson');
    fs.writeFileSync(file, r.stdout);
    const imported = await dlr(target, ['raw', 'import', file]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^read 2, imported 2, already present 0, status changes \d+$/m);
    expect(imported.stdout).toContain(
      `1 request(s) cannot be verified again: credentials were redacted at export (export with --include-credentials to keep them): ${tokenId}`,
    );
    const raw = await show(target, tokenId);
    expect(raw.verdict).toBe('signature_invalid');
    expect(raw.detail).toMatch(/^cannot be verified again: credentials were redacted at export/);
    expect(raw.events).toEqual([]);
    expect((await show(target, plainId)).verdict).toBe('accepted');

    const again = await dlr(target, ['raw', 'import', file, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, already_present: 2, unverifiable: [] });
  });
});

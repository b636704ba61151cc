import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { dlr } from '../helpers/cli';
import { databaseUrlFor, dropDatabaseFor } from '../helpers/db';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Runs the built `dlr` binary against the database in `dir`. */
async function messageStates(app: TestApp) {
  const items: { provider: string; message_id: string; recipient: string; status: string; version: number; error: unknown }[] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(app.url)
      .get(`/v1/messages?limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      .set(admin)
      .expect(200);
    items.push(...(res.body.items as typeof items));
    cursor = res.body.next_cursor;
  } while (cursor);
  return items
    .map((m) => ({ key: `${m.provider}/${m.message_id}/${m.recipient}`, status: m.status, version: m.version, error: m.error }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

describe('the dlr CLI (bin/dlr.js)', () => {
  const dirA = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-cli-a-'));
  const dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-cli-b-'));
  let refusedIds: string[];

  beforeAll(async () => {
    // Instance A, first run: the token in config is wrong, so 1,000 genuine reports are refused.
    const app = await startTestApp(seedConfig({ token: 'old-wrong-token' }), { DLR_WORKER: 'off' }, { dir: dirA });
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          request(app.url)
            .post('/v1/callbacks/aliyun?token=the-right-token')
            .set('content-type', 'application/json')
            .send(
              JSON.stringify([
                { phone_number: '13800138000', biz_id: `bulk-${i + j}`, success: (i + j) % 3 !== 0, err_code: 'UNDELIV', report_time: '2024-05-06 10:15:09' },
              ]),
            )
            .expect(401),
        ),
      );
    }
    refusedIds = (await request(app.url).get('/v1/raw?verdict=signature_invalid&limit=500').set(admin).expect(200)).body.items.map((r: { id: string }) => r.id);
    await app.close();
    // Second run, config fixed (the CLI uses the same file): three fixtures are accepted.
    const fixed = await startTestApp(seedConfig({ token: 'the-right-token' }), { DLR_WORKER: 'off' }, { dir: dirA });
    for (const p of ['aliyun/smsreport-batch', 'tencent/status-array', 'ronglian/smsarrived-failed']) {
      const [provider, name] = p.split('/') as [string, string];
      const fx = fixture(provider, name);
      await request(fixed.url).post(`/v1/callbacks/${provider}?token=the-right-token`).set('content-type', fx.contentType).send(fx.body.toString()).expect(200);
    }
    await fixed.close();
    fs.writeFileSync(path.join(dirB, 'dlr.config.json'), JSON.stringify(seedConfig({ token: 'the-right-token' })));
  });
  afterAll(async () => {
    await dropDatabaseFor(dirA);
    await dropDatabaseFor(dirB);
    fs.rmSync(dirA, { recursive: true, force: true });
    fs.rmSync(dirB, { recursive: true, force: true });
  });

  it.each([
    [[]],
    [['raw']],
    [['raw', 'list']],
    [['raw', 'show']],
    [['raw', 'export']],
    [['raw', 'import']],
    [['raw', 'purge']],
    [['replay']],
    [['migrate']],
    [['worker']],
    [['serve']],
    [['report']],
    [['messages']],
    [['messages', 'show']],
    [['messages', 'list']],
    [['stats']],
    [['subscriptions']],
    [['subscriptions', 'list']],
    [['subscriptions', 'create']],
    [['subscriptions', 'test']],
    [['deliveries']],
    [['deliveries', 'list']],
    [['deliveries', 'retry']],
    [['config', 'check']],
  ])('has --help for `dlr %s`', async (args) => {
    const r = await dlr(dirA, [...args, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: dlr/);
  });

  it('exits 2 on bad usage and 3 for an unknown id', async () => {
    expect((await dlr(dirA, ['replay', '--since', 'yesterday'])).code).toBe(2);
    expect((await dlr(dirA, ['replay'])).code).toBe(2);
    const missing = await dlr(dirA, ['raw', 'show', 'raw_01JD0000000000000000000000']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/not found/);
  });

  it('lists and shows raw requests', async () => {
    const list = await dlr(dirA, ['raw', 'list', '--verdict', 'accepted', '--json', '--limit', '5']);
    expect(list.code).toBe(0);
    const items = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { provider: string; verdict: string });
    expect(items.map((i) => i.provider).sort()).toEqual(['aliyun', 'ronglian', 'tencent']);
    const show = await dlr(dirA, ['raw', 'show', refusedIds[0]]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/verdict: signature_invalid — the \?token= of the callback URL does not match/);
    expect(show.stdout).toContain('bulk-');
  });

  it('dry-runs and then replays 1,000 refused requests after the fix, with progress on stderr', async () => {
    const dry = await dlr(dirA, ['replay', '--verdict', 'signature_invalid', '--dry-run', '--limit', '5000']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run: replayed 1000; verdicts \{"accepted":1000\}; 1000 status change\(s\) would be made/);
    const real = await dlr(dirA, ['replay', '--verdict', 'signature_invalid', '--limit', '5000']);
    expect(real.code).toBe(0);
    expect(real.stderr).toMatch(/replayed 100…[\s\S]*replayed 1000…/);
    expect(real.stdout).toMatch(/^replayed 1000; verdicts \{"accepted":1000\}; 1000 status change\(s\)$/m);
    const again = await dlr(dirA, ['replay', '--provider', 'aliyun', '--limit', '5000', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ replayed: 1001, changes: 0 });
  });

  it('exports and imports into a fresh database with the same message states, idempotently', async () => {
    // the aliyun requests carry ?token=: kept in clear only when asked for (transfer.test.ts)
    const exported = await dlr(dirA, ['raw', 'export', '--include-credentials']);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/exported 1003 raw requests$/m);
    const file = path.join(dirB, 'export.ndjson');
    fs.writeFileSync(file, exported.stdout);

    const imported = await dlr(dirB, ['raw', 'import', file, '--json']);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ read: 1003, imported: 1003, already_present: 0, unverifiable: [] });
    const twice = await dlr(dirB, ['raw', 'import', file, '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ read: 1003, imported: 0, already_present: 1003, changes: 0 });

    const a = await startTestApp(null, { DLR_WORKER: 'off', DATABASE_URL: await databaseUrlFor(dirA) });
    const b = await startTestApp(null, { DLR_WORKER: 'off', DATABASE_URL: await databaseUrlFor(dirB) });
    try {
      const statesA = await messageStates(a);
      expect(statesA).toHaveLength(1005);
      expect(await messageStates(b)).toEqual(statesA);
      const audit = await request(b.url).get('/v1/audit?action=import').set(admin).expect(200);
      expect(audit.body.items).toHaveLength(2);
      expect(audit.body.items[0].actor).toMatch(/^cli:/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('purges raw requests before a time, keeping message status and history', async () => {
    const purge = await dlr(dirB, ['raw', 'purge', '--before', '2999-01-01T00:00:00Z', '--yes']);
    expect(purge.code).toBe(0);
    expect(purge.stdout).toMatch(/purged 1003 raw requests/);
    const list = await dlr(dirB, ['raw', 'list', '--json']);
    expect(list.stdout).toBe('');
    const b = await startTestApp(null, { DLR_WORKER: 'off', DATABASE_URL: await databaseUrlFor(dirB) });
    const msg = await request(b.url).get('/v1/messages/aliyun/bulk-1').set(admin).expect(200);
    expect(msg.body.history).toHaveLength(1);
    await b.close();
  });
});

describe('dlr config check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-cli-config-'));
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(value));
    return file;
  };

  it('accepts the shipped example as written', async () => {
    const example = path.resolve(__dirname, '../../examples/dlr.config.json');
    const r = await dlr(dir, ['config', 'check', example]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(3 providers, 3 accounts, 1 API tokens\)/);
  });

  it('lists every error at once and exits 2', async () => {
    const file = write('bad.json', {
      providers: {
        aliyun: { accounts: { default: { token: 'env:DLR_TEST_UNSET_A' } } },
        tencent: { accounts: { default: { token: 'env:DLR_TEST_UNSET_B' } } },
      },
    });
    const r = await dlr(dir, ['config', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/providers\.aliyun\.accounts\.default\.token: environment variable DLR_TEST_UNSET_A is not set/);
    expect(r.stderr).toMatch(/providers\.tencent\.accounts\.default\.token: environment variable DLR_TEST_UNSET_B is not set/);
    const schema = await dlr(dir, ['config', 'check', write('schema.json', { retention: { rawDays: 'soon' }, delivery: { timeoutSeconds: -1 } })]);
    expect(schema.code).toBe(2);
    expect(schema.stderr.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
  });

  it('says what is wrong with a file that cannot be read', async () => {
    const r = await dlr(dir, ['config', 'check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a directory, not a file/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, seedConfig } from '../helpers/app';
import { databaseUrlFor, dropDatabaseFor, testDialect } from '../helpers/db';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';

const REPORTS = 200;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// Two server processes on one database is the PostgreSQL scale-out mode; SQLite is one process.
const onPostgres = testDialect === 'postgres' ? describe : describe.skip;

onPostgres('two replicas on one PostgreSQL database', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-replicas-'));
  let replicas: ServerProcess[] = [];
  let sub: Subscriber;

  beforeAll(async () => {
    const config = path.join(dir, 'dlr.config.json');
    fs.writeFileSync(
      config,
      JSON.stringify(seedConfig({ token: 'replica-token' }, { delivery: { allowPrivateNetworks: true, retryScheduleSeconds: [1, 1, 1] } })),
    );
    const env = { DATABASE_URL: await databaseUrlFor(dir), DLR_CONFIG: config, DATABASE_POOL_SIZE: '5' };
    // Both start at once: migrations must serialize between them.
    replicas = await Promise.all([startServerProcess(env, dir), startServerProcess(env, dir)]);
    sub = await startSubscriber();
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await sub?.close();
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies the same 200 reports sent to both at once as one status change each, delivered exactly once', async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const created = await fetch(`${a.url}/v1/subscriptions`, { method: 'POST', headers: admin, body: JSON.stringify({ url: sub.url }) });
    expect(created.status).toBe(201);

    const reports = Array.from({ length: REPORTS }, (_, i) => ({
      phone_number: `1380013${String(i).padStart(4, '0')}`,
      biz_id: `rep-${i}`,
      success: i % 4 !== 0,
      err_code: i % 4 === 0 ? 'MK:0001' : 'DELIVRD',
      report_time: '2026-11-26 10:15:09',
    }));
    // Every report goes to both replicas, in a random order, 20 requests in flight.
    const sends = shuffle(
      reports.flatMap((r) => [
        { r, to: a },
        { r, to: b },
      ]),
    );
    const answers: number[] = [];
    for (let i = 0; i < sends.length; i += 20) {
      const slice = sends.slice(i, i + 20);
      const statuses = await Promise.all(
        slice.map(({ r, to }) =>
          fetch(`${to.url}/v1/callbacks/aliyun?token=replica-token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify([r]),
          }).then((res) => res.status),
        ),
      );
      answers.push(...statuses);
    }
    expect(answers.every((s) => s === 200)).toBe(true);

    // Every message in the right state, with one change and both reports in its history.
    for (const r of reports) {
      const res = await fetch(`${b.url}/v1/messages/aliyun/${r.biz_id}`, { headers: admin });
      const body = (await res.json()) as { message: { status: string; version: number }; history: unknown[] };
      expect({ id: r.biz_id, status: body.message.status, version: body.message.version, history: body.history.length }).toEqual({
        id: r.biz_id,
        status: r.success ? 'delivered' : 'failed',
        version: 1,
        history: 2,
      });
    }

    // Both replicas' workers deliver; each status change arrives once, none missing.
    await waitFor(() => sub.received.length >= REPORTS, 'every status change to be delivered', 20_000);
    await new Promise((r) => setTimeout(r, 1500)); // room for a wrongly duplicated delivery to show up
    const ids = sub.received.map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(REPORTS);
    expect(ids).toHaveLength(REPORTS);
    const delivered = new Set(sub.received.map((x) => (JSON.parse(x.body) as { message_id: string }).message_id));
    expect(delivered).toEqual(new Set(reports.map((r) => r.biz_id)));
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/connect';
import { ADMIN_TOKEN, seedConfig } from '../helpers/app';
import { databaseUrlFor, dropDatabaseFor } from '../helpers/db';
import { startServerProcess } from '../helpers/server-process';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

describe('kill -9 in the middle of load', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-crash-'));
  let sub: Subscriber;
  afterAll(async () => {
    await sub?.close();
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing that was acknowledged: status, history and outbox entries survive the restart', async () => {
    sub = await startSubscriber();
    const config = path.join(dir, 'dlr.config.json');
    fs.writeFileSync(config, JSON.stringify(seedConfig({ token: 'crash-token' }, { delivery: { allowPrivateNetworks: true } })));
    const env = { DATABASE_URL: await databaseUrlFor(dir), DLR_CONFIG: config };
    const first = await startServerProcess(env, dir);
    const created = await fetch(`${first.url}/v1/subscriptions`, { method: 'POST', headers: admin, body: JSON.stringify({ url: sub.url }) });
    expect(created.status).toBe(201);

    // 20 concurrent senders post reports until the process dies under them.
    const acked: string[] = [];
    let n = 0;
    let dead = false;
    const sender = async () => {
      while (!dead) {
        const id = `crash-${(n += 1)}`;
        const body = JSON.stringify([
          { phone_number: '13800138000', biz_id: id, success: n % 3 !== 0, err_code: 'UNDELIV', report_time: '2026-11-26 10:15:09' },
        ]);
        const status = await fetch(`${first.url}/v1/callbacks/aliyun?token=crash-token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) acked.push(id);
      }
    };
    const senders = Array.from({ length: 20 }, sender);
    await waitFor(() => acked.length >= 300, 'load to build up', 20_000);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    dead = true;
    await Promise.all(senders);
    expect(acked.length).toBeGreaterThanOrEqual(300);

    const second = await startServerProcess(env, dir);
    try {
      for (const id of acked) {
        const res = await fetch(`${second.url}/v1/messages/aliyun/${id}`, { headers: admin });
        expect({ id, status: res.status }).toEqual({ id, status: 200 });
        const body = (await res.json()) as { message: { status: string; version: number }; history: unknown[] };
        const n = Number(id.slice('crash-'.length));
        expect({ id, status: body.message.status, history: body.history.length }).toEqual({ id, status: n % 3 !== 0 ? 'delivered' : 'failed', history: 1 });
      }
      // Every acknowledged change has its outbox entry, pending or delivered. (Claims the killed
      // worker held come back when their lease ends; deliveries themselves are tested elsewhere.)
      const dbh = openDatabase(env.DATABASE_URL);
      try {
        const rows = await dbh.db
          .selectFrom('deliveries')
          .innerJoin('events', 'events.id', 'deliveries.event_id')
          .select(['deliveries.state', 'events.payload'])
          .execute();
        const byMessage = new Map(rows.map((r) => [(JSON.parse(r.payload) as { message_id: string }).message_id, r.state]));
        const lost = acked.filter((id) => !['pending', 'succeeded'].includes(byMessage.get(id) ?? 'missing'));
        expect(lost).toEqual([]);
      } finally {
        await dbh.close();
      }
    } finally {
      await second.stop();
    }
  });
});

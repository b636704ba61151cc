import request from 'supertest';
import { openDatabase, type Db } from '../../src/db/connect';
import { EXPAND_ROWS, expandFanout } from '../../src/outbox/expand';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { databaseUrlFor, testDialect } from '../helpers/db';

/**
 * Fan-out off the ingest transaction (issue #21, migration 0011): ingest stores each event once
 * with the subscriptions that take it; the worker's first step (src/outbox/expand.ts) makes their
 * delivery rows. Until then the outbox counts them as waiting. No worker runs here: the test takes
 * its steps itself.
 */
describe(`fan-out after the ingest transaction (${testDialect})`, () => {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  let app: TestApp;
  let own: Db;

  beforeAll(async () => {
    app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' });
    own = openDatabase(await databaseUrlFor(app.dir));
  });
  afterAll(async () => {
    await own?.close();
    await app?.close();
  });

  const subscribe = async (path: string, filter: object = {}) =>
    (
      await request(app.url)
        .post('/v1/subscriptions')
        .set(admin)
        .send({ url: `http://127.0.0.1:9/${path}`, filter })
        .expect(201)
    ).body.id as string;
  const report = (bizId: string, success = true) =>
    request(app.url)
      .post('/v1/callbacks/aliyun')
      .set('content-type', 'application/json')
      .send(JSON.stringify([{ phone_number: '13800000000', biz_id: bizId, success, err_code: success ? 'DELIVERED' : 'UNDELIV' }]))
      .expect(200);
  const deliveriesOf = (bizId: string) =>
    own.db
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .select(['deliveries.subscription_id', 'deliveries.state', 'deliveries.created_at', 'events.created_at as event_at'])
      .where('events.payload', 'like', `%${bizId}%`)
      .orderBy('deliveries.subscription_id')
      .execute();

  it('stores one event row whatever the number of subscriptions; the worker step makes each delivery, due from the event time', async () => {
    const all = await subscribe('all');
    const failed = await subscribe('failed', { statuses: ['failed'] });
    const gone = await subscribe('gone');
    const many: string[] = [];
    while (many.length < 20) many.push(await subscribe('many'));
    await report('fan-1', true);

    const events = await own.db.selectFrom('events').select(['fanout']).where('payload', 'like', '%fan-1%').execute();
    expect(events).toHaveLength(1);
    expect(events[0].fanout?.split(',').sort()).toEqual([all, gone, ...many].sort());
    expect(await deliveriesOf('fan-1')).toEqual([]);

    // waiting, and counted as such by the outbox overview and the backlog gauge
    const outbox = await request(app.url).get('/v1/outbox').set(admin).expect(200);
    expect(outbox.body.pending).toBe(22);
    expect(outbox.body.subscriptions.find((s: { id: string }) => s.id === all).pending).toBe(1);
    expect(outbox.body.subscriptions.find((s: { id: string }) => s.id === failed).pending).toBe(0);
    const metrics = await request(app.url).get('/metrics').set(admin).expect(200);
    expect(metrics.text).toMatch(/^dlr_outbox_backlog 22$/m);

    // a subscription deleted before the step gets no delivery
    await request(app.url).delete(`/v1/subscriptions/${gone}`).set(admin).expect(204);
    expect(await expandFanout(own)).toBe(1);
    const made = await deliveriesOf('fan-1');
    expect(made.map((d) => d.subscription_id).sort()).toEqual([all, ...many].sort());
    expect(made.every((d) => d.state === 'pending' && d.created_at === d.event_at)).toBe(true);
    expect(await expandFanout(own)).toBe(0);
    expect((await request(app.url).get('/v1/outbox').set(admin).expect(200)).body.pending).toBe(21);
    for (const id of [all, failed, ...many]) await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('makes at most EXPAND_ROWS delivery rows per transaction (the step shares the thread with ingest)', async () => {
    const subs: string[] = [];
    while (subs.length < 25) subs.push(await subscribe('rows'));
    for (let i = 0; i < 50; i += 1) await report(`rows-${i}`);
    expect(EXPAND_ROWS / 25).toBe(40);
    expect([await expandFanout(own), await expandFanout(own), await expandFanout(own)]).toEqual([40, 10, 0]);
    for (const id of subs) await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('several workers fanning out together make each delivery once', async () => {
    const sub = await subscribe('together');
    for (let i = 0; i < 120; i += 1) await report(`tog-${i}`, i % 2 === 0);
    const others = await Promise.all([1, 2, 3].map(async () => openDatabase(await databaseUrlFor(app.dir))));
    try {
      // PostgreSQL: concurrently (SKIP LOCKED shares the events out); SQLite serializes writers, and
      // connections of one process cannot wait for each other, so they take turns
      const handles = [own, ...others];
      const fanned = handles.map(() => 0);
      const round = async () => {
        const got =
          testDialect === 'postgres'
            ? await Promise.all(handles.map((h) => expandFanout(h, 7)))
            : await handles.reduce(async (acc, h) => [...(await acc), await expandFanout(h, 7)], Promise.resolve([] as number[]));
        got.forEach((n, i) => (fanned[i] += n));
        return got.some((n) => n > 0);
      };
      while (await round());
      expect(fanned.reduce((a, b) => a + b, 0)).toBe(120);
      if (testDialect === 'postgres') expect(fanned.filter((n) => n > 0).length).toBeGreaterThan(1); // they shared the work
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
    const rows = await own.db
      .selectFrom('deliveries')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.count<string | number>('event_id').distinct().as('events')])
      .where('subscription_id', '=', sub)
      .executeTakeFirstOrThrow();
    expect([Number(rows.n), Number(rows.events)]).toEqual([120, 120]);
  });
});

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { databaseUrlFor, dropDatabaseFor, testDialect } from '../helpers/db';
import { startServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/subscriber';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A connection that sent a callback's headers and `sent` bytes of its body, and holds the rest back. */
interface Held {
  socket: net.Socket;
  answer: () => string;
  closed: Promise<void>;
  /** True once the server closed the connection (a refusal whose answer a reset may have discarded). */
  isClosed: () => boolean;
}

function holdBody(port: number, opts: { declared?: number; sent: number; path?: string }): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let isClosed = false;
    const closed = new Promise<void>((done) =>
      socket.on('close', () => {
        isClosed = true;
        done();
      }),
    );
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => undefined); // the server may close a refused connection while we write
    socket.once('connect', () => {
      const length = opts.declared === undefined ? 'transfer-encoding: chunked' : `content-length: ${opts.declared}`;
      socket.write(`POST ${opts.path ?? '/v1/callbacks/aliyun'} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${length}\r\n\r\n`);
      if (opts.sent > 0) {
        const bytes = Buffer.alloc(opts.sent, 0x20);
        socket.write(opts.declared === undefined ? Buffer.concat([Buffer.from(`${opts.sent.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes);
      }
      resolve({ socket, answer: () => answer, closed, isClosed: () => isClosed });
    });
    socket.once('error', reject);
  });
}

const rawOf = (app: TestApp, verdict: string) => request(app.url).get(`/v1/raw?verdict=${verdict}`).set(admin).expect(200);

describe('limits on what senders can hold', () => {
  describe('the body budget (server.bodyBudgetBytes)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(seedConfig({}, { server: { bodyLimitBytes: 16_384, bodyBudgetBytes: 32_768, bodyTimeoutSeconds: 5 } }));
    });
    afterAll(() => app.close());

    it('answers 503 with Retry-After past the budget, before reading, logs it as overloaded, and gives the budget back', async () => {
      const a = await holdBody(app.running.port, { declared: 16_000, sent: 100 });
      const b = await holdBody(app.running.port, { declared: 16_000, sent: 100 });
      const c = await holdBody(app.running.port, { declared: 16_000, sent: 100 });
      await c.closed;
      expect(c.answer()).toMatch(/^HTTP\/1\.1 503 /);
      expect(c.answer()).toMatch(/retry-after: 2/i);
      expect(c.answer()).toMatch(/"error":"overloaded".*server\.bodyBudgetBytes/);
      const logged = await rawOf(app, 'overloaded');
      expect(logged.body.items).toHaveLength(1);
      expect(logged.body.items[0]).toMatchObject({ provider: 'aliyun', verdict: 'overloaded', body_size: 0 });
      // the held ones are still being read; once they finish, the budget is free again
      a.socket.end(Buffer.alloc(15_900, 0x20));
      b.socket.destroy();
      await a.closed.catch(() => undefined);
      // (the budget comes back as the held requests finish: a loaded machine may answer 503 a little longer)
      const res = await waitFor(async () => {
        const r = await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(Buffer.alloc(16_000, 0x20).toString());
        return r.status !== 503 && r;
      }, 'the budget back');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('payload_invalid');
    });

    it('counts a chunked body as it arrives', async () => {
      const before = (await rawOf(app, 'overloaded')).body.items.length;
      const a = await holdBody(app.running.port, { sent: 16_000 });
      const b = await holdBody(app.running.port, { sent: 16_000 });
      const c = await holdBody(app.running.port, { sent: 8_000 });
      await c.closed;
      expect(c.answer()).toMatch(/^HTTP\/1\.1 503 /);
      await waitFor(async () => (await rawOf(app, 'overloaded')).body.items.length === before + 1, 'the refusal in the raw log');
      a.socket.destroy();
      b.socket.destroy();
    });
  });

  describe('connections and headers', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(seedConfig({}, { server: { maxConnections: 3, headersTimeoutSeconds: 1 } }));
    });
    afterAll(() => app.close());

    it('closes connections past server.maxConnections at once, and takes new ones when some end', async () => {
      const open = await Promise.all([0, 1, 2].map(() => holdBody(app.running.port, { declared: 10, sent: 1 })));
      await new Promise((r) => setTimeout(r, 100));
      const extra = await holdBody(app.running.port, { declared: 10, sent: 1 });
      await extra.closed;
      expect(extra.answer()).toBe('');
      for (const h of open) h.socket.destroy();
      await waitFor(
        async () =>
          (
            await request(app.url)
              .get('/healthz')
              .ok(() => true)
              .catch(() => null)
          )?.status === 200,
        '/healthz again',
      );
    });

    it('answers 408 and disconnects a client whose headers take longer than server.headersTimeoutSeconds', async () => {
      const socket = net.connect(app.running.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      const closed = new Promise<void>((done) => socket.on('close', () => done()));
      socket.write('POST /v1/callbacks/aliyun HTTP/1.1\r\nhost: 127.0.0.1\r\n');
      const started = Date.now();
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('metrics on a port of its own, behind a token', () => {
    let app: TestApp;
    const token = 'metrics-token-0123456789';
    beforeAll(async () => {
      app = await startTestApp(seedConfig({}, { metrics: { port: 0, host: '127.0.0.1', token } }));
    });
    afterAll(() => app.close());

    it('serves /metrics only there, with the token', async () => {
      await request(app.url).get('/metrics').expect(404);
      const metrics = `http://127.0.0.1:${app.running.metricsPort}`;
      const refused = await request(metrics).get('/metrics').expect(401);
      expect(refused.body.detail).toMatch(/metrics\.token/);
      await request(metrics).get('/metrics').set('authorization', 'Bearer wrong-token-0123456789').expect(401);
      const res = await request(metrics).get('/metrics').set('authorization', `Bearer ${token}`).expect(200);
      expect(res.text).toMatch(/dlr_callbacks_total/);
      await request(metrics).get('/healthz').expect(404);
    });
  });

  // The database is closed under the running app to make it unreachable: one dialect shows the answer.
  (testDialect === 'sqlite' ? describe : describe.skip)('readiness', () => {
    it('answers a short reason and logs the database error', async () => {
      const app = await startTestApp(seedConfig());
      try {
        await app.running.ctx.dbh.close();
        const res = await request(app.url).get('/readyz').expect(503);
        expect(res.body).toEqual({ status: 'database_unreachable', detail: 'the database cannot be reached; see the service log' });
        expect(app.logs.some((l) => l.includes('readiness check: database unreachable'))).toBe(true);
      } finally {
        await app.close().catch(() => undefined);
      }
    });
  });

  // One server process, its memory measured by the kernel: 800 senders each holding a 1 MiB body.
  (testDialect === 'sqlite' ? describe : describe.skip)('800 held 1 MiB bodies (a real process)', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-held-'));
    });
    afterAll(async () => {
      await dropDatabaseFor(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('keep RSS under 300 MB and /healthz answering', async () => {
      const server = await startServerProcess({ DATABASE_URL: await databaseUrlFor(dir), DLR_CONFIG: '', LOG_LEVEL: 'info' }, dir);
      const port = Number(new URL(server.url).port);
      const held: Held[] = [];
      try {
        const MiB = 1024 * 1024;
        for (let i = 0; i < 800; i += 50) held.push(...(await Promise.all(Array.from({ length: 50 }, () => holdBody(port, { declared: MiB, sent: MiB - 1 })))));
        // Past the 64 MiB budget every sender is answered 503 (after its refusal is in the raw log) and
        // its connection closed; the close may come as a reset that discards the answer on our side,
        // so a closed connection counts as refused. On a loaded machine this takes a while: wait for
        // it (at most 20 s) rather than a fixed pause.
        const refused = () => held.filter((h) => h.answer().startsWith('HTTP/1.1 503 ') || h.isClosed()).length;
        for (const until = Date.now() + 20_000; refused() <= 700 && Date.now() < until;) await new Promise((r) => setTimeout(r, 200));
        const health = await request(server.url).get('/healthz').timeout(2000);
        expect(health.status).toBe(200);
        const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
        const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
        expect(peakKb / 1024).toBeLessThan(300);
        expect(refused()).toBeGreaterThan(700); // the rest (64 at most) are being read, within the budget
      } finally {
        for (const h of held) h.socket.destroy();
        await server.stop();
      }
    }, 60_000);
  });
});

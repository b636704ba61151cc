import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { waitFor } from '../helpers/subscriber';

/**
 * The receiver snippets of docs/api.md ("Receiving webhooks"): each is a file of docs/snippets/
 * included in the doc verbatim, and the Node one runs here, as a real process on loopback, against
 * a real delivery of a callback's event and a real test event.
 */
const ROOT = path.resolve(__dirname, '../..');
const SNIPPETS = path.join(ROOT, 'docs', 'snippets');
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('receiver snippets in the docs', () => {
  it.each(['node-receiver.js', 'python_receiver.py', 'go-receiver.go', 'JavaReceiver.java'])('docs/api.md holds docs/snippets/%s verbatim', (file) => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');
    expect(doc).toContain(fs.readFileSync(path.join(SNIPPETS, file), 'utf8'));
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  (python ? it : it.skip)('the Python snippet compiles', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-py-'));
    try {
      const res = spawnSync(
        'python3',
        [
          '-c',
          'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)',
          path.join(SNIPPETS, 'python_receiver.py'),
          path.join(out, 'r.pyc'),
        ],
        {
          encoding: 'utf8',
        },
      );
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('the Node receiver snippet, run against real deliveries', () => {
  let app: TestApp;
  let receiver: ChildProcessWithoutNullStreams | undefined;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, { delivery: { retryScheduleSeconds: [0.2], timeoutSeconds: 2 } }));
  });
  afterAll(async () => {
    const child = receiver;
    if (child?.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await app.close();
  });

  it('verifies a test event and a status event delivered by the service, and refuses a forged one', async () => {
    // the subscription first (its secret configures the receiver), disabled until the receiver listens
    const created = await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/webhooks/dlr', enabled: false }).expect(201);
    const { id, secret } = created.body as { id: string; secret: string };

    receiver = spawn(process.execPath, [path.join(SNIPPETS, 'node-receiver.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DLR_WEBHOOK_SECRET: secret, PORT: '0', HOST: '127.0.0.1' },
    });
    receiver.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    receiver.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+\/webhooks\/dlr)/.exec(stdout)?.[1], `the receiver to listen (stderr: ${stderr})`);
    await request(app.url).patch(`/v1/subscriptions/${id}`).set(admin).send({ url, enabled: true }).expect(200);

    // the test endpoint
    const test = await request(app.url).post(`/v1/subscriptions/${id}/test`).set(admin).expect(200);
    const testEvent = test.body.event as { id: string };
    expect(test.body.attempt).toMatchObject({ status_code: 204, error: null });
    await waitFor(() => stdout.includes(`verified ${testEvent.id}: test event for ${id}`), 'the receiver to verify the test event');

    // a real event: a provider's callback, delivered by the worker
    const report = JSON.stringify([{ phone_number: '13800138000', biz_id: 'snippet-1', report_time: '2024-05-06 10:15:09', success: true }]);
    await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(report).expect(200);
    const delivered = await waitFor(async () => {
      const res = await request(app.url).get(`/v1/subscriptions/${id}/deliveries?state=succeeded`).set(admin).expect(200);
      return (res.body.items as { event_id: string; last_status: number }[])[0];
    }, 'the delivery to succeed');
    expect(delivered.last_status).toBe(204);
    expect(stdout).toContain(`verified ${delivered.event_id}: aliyun snippet-1 is delivered`);

    // a request the service did not sign
    const forged = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'evt_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,Zm9yZ2Vk',
      },
      body: JSON.stringify({ id: 'evt_forged', type: 'message.status' }),
    });
    expect(forged.status).toBe(401);
    await waitFor(() => stderr.includes('rejected:'), 'the receiver to log the refusal');
    expect(stdout).not.toContain('evt_forged');
  });
});

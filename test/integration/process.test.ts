import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { databaseUrlFor, dropDatabaseFor } from '../helpers/db';
import { startSubscriber, waitFor as waitForSubscriber } from '../helpers/subscriber';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

function start(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function waitFor(predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('the built server process (dist/main.js)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-proc-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts with no config on ./data/dlr.sqlite, serves, and exits 0 on SIGTERM', async () => {
    const { child, output } = start({ PORT: '0', HOST: '127.0.0.1' }, dir);
    await waitFor(() => /"port":(\d+)/.test(output()), 'listening');
    const port = /"port":(\d+)/.exec(output())![1];
    expect(output()).toMatch(/no config file/);
    const res = await fetch(`http://127.0.0.1:${port}/v1/callbacks/tencent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"mobile":"13800138000","nationcode":"86","report_status":"SUCCESS","sid":"s1"}]',
    });
    expect(await res.json()).toEqual({ result: 0, errmsg: 'OK' });
    expect(fs.existsSync(path.join(dir, 'data', 'dlr.sqlite'))).toBe(true);
    const started = Date.now();
    const code = exited(child);
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(output()).toMatch(/"msg":"stopped"/);
  });

  it('refuses to start on an invalid config, naming the field', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ providers: { aliyun: { accounts: { default: { allowIps: 'everyone' } } } } }));
    const { child, output } = start({ DLR_CONFIG: file, PORT: '0' }, dir);
    expect(await exited(child)).toBe(1);
    expect(output()).toMatch(/providers\.aliyun\.accounts\.default\.allowIps: must be array/);
  });

  it('refuses to start on a generic provider that signs with a plain hash but no secret, naming the field', async () => {
    const file = path.join(dir, 'bad-generic.json');
    const gw = { kind: 'generic', preset: 'vonage', signature: { signed: '{params}' }, accounts: { default: { secret: 'vonage-secret-1' } } };
    fs.writeFileSync(file, JSON.stringify({ providers: { gw } }));
    const { child, output } = start({ DLR_CONFIG: file, PORT: '0' }, dir);
    expect(await exited(child)).toBe(1);
    expect(output()).toMatch(/providers\.gw\.signature\.signed: a plain md5 signature proves nothing unless \{secret\}/);
  });
});

describe('`dlr worker` (bin/dlr.js)', () => {
  it('delivers what a server without a worker queued, and stops on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-worker-'));
    const sub = await startSubscriber();
    const app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' }, { dir });
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    await fetch(`${app.url}/v1/subscriptions`, { method: 'POST', headers, body: JSON.stringify({ url: sub.url }) });
    await fetch(`${app.url}/v1/callbacks/aliyun`, { method: 'POST', headers, body: '[{"phone_number":"1","biz_id":"w-1","success":true}]' });
    await app.close();

    let out = '';
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/dlr.js'), 'worker'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: await databaseUrlFor(dir), DLR_CONFIG: path.join(dir, 'dlr.config.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await waitForSubscriber(() => sub.received.length === 1, 'the standalone worker to deliver');
    expect(JSON.parse(sub.received[0].body)).toMatchObject({ message_id: 'w-1', status: 'delivered' });
    const code = exited(child);
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(out).toMatch(/worker stopped/);
    await sub.close();
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

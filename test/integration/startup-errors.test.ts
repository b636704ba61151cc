import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

/** `npm start` as a real process (the built dist/main.js): its exit code and what it wrote to stderr. */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-startup-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DLR_CONFIG: '', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: `sqlite:${path.join(dir, 'dlr.sqlite')}`, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** One line naming the setting, no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('start-up errors are one line naming the setting to fix', () => {
  it('a port in use names PORT', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = await start({ PORT: String(port) });
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, new RegExp(`^dlr-receiver: port ${port} on 127\\.0\\.0\\.1 is already in use: set PORT`));
    } finally {
      busy.close();
    }
  });

  it('a bad LOG_LEVEL lists the levels', async () => {
    const r = await start({ LOG_LEVEL: 'loud' });
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
  });

  it('an unreachable database names DATABASE_URL, without its password', async () => {
    const r = await start({ DATABASE_URL: 'postgres://postgres:pg-secret@127.0.0.1:1/dlr' });
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /the database postgres:\/\/127\.0\.0\.1:1\/dlr cannot be reached \(ECONNREFUSED.*check DATABASE_URL/);
    expect(r.stderr).not.toContain('pg-secret');
  });
});

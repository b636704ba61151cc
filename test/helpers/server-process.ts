import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ADMIN_TOKEN } from './app';
import { waitFor } from './subscriber';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM and wait for the exit (nothing if it is gone already). */
  stop(): Promise<void>;
}

/** The built server (dist/main.js) as a real process on a free loopback port, once it listens. */
export async function startServerProcess(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', DLR_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const port = await waitFor(() => /"port":(\d+)/.exec(out)?.[1], 'the server process to listen', 20_000);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sends `text` as is over a raw TCP connection and returns everything the server answered. */
export function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('close', () => resolve(data));
  });
}

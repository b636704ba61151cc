import { spawn } from 'node:child_process';
import path from 'node:path';
import { databaseUrlFor } from './db';

const BIN = path.resolve(__dirname, '../../bin/dlr.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx dlr …` as a real process on the test folder's database, with `config` as DLR_CONFIG (default: the folder's dlr.config.json). */
export async function dlr(dir: string, args: string[], config = path.join(dir, 'dlr.config.json')): Promise<CliRun> {
  const databaseUrl = await databaseUrlFor(dir);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, DLR_CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

import { spawn } from 'node:child_process';
import path from 'node:path';
import { databaseUrlFor } from './db';

const BIN = path.resolve(__dirname, '../../bin/dlr.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** More environment variables (the child gets only PATH, DATABASE_URL, DLR_CONFIG and these). */
  env?: Record<string, string>;
  /** Another copy of bin/dlr.js to run (the missing-build test). */
  bin?: string;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /**
   * Run on a pseudo-terminal (util-linux `script`), stdin and stdout both terminals, as a person
   * at a shell; `input` is typed into it. The output then comes back as the terminal shows it (CRLF).
   */
  tty?: boolean;
}

/** A word for `sh -c`, quoted. */
const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `npx dlr …` as a real process on the test folder's database, with `config` as DLR_CONFIG (default: the folder's dlr.config.json). */
export async function dlr(dir: string, args: string[], config = path.join(dir, 'dlr.config.json'), opts: CliOptions = {}): Promise<CliRun> {
  const databaseUrl = await databaseUrlFor(dir);
  const argv = [opts.bin ?? BIN, ...args];
  const [command, commandArgs] = opts.tty ? ['script', ['-qec', [process.execPath, ...argv].map(shellWord).join(' '), '/dev/null']] : [process.execPath, argv];
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, DLR_CONFIG: config, ...opts.env },
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

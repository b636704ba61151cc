import readline from 'node:readline';
import { InvalidArgumentError } from 'commander';
import { BadRequest } from '../errors';
import { formatTable, type Column } from './table';

/** Exit codes: 0 done, 1 failed, 2 bad usage or config, 3 not found. */
export const EXIT = { failed: 1, usage: 2, notFound: 3 } as const;

/** A usage error found after parsing (a missing confirmation, an ambiguous id): message on stderr, exit 2. */
export class UsageError extends Error {}

export const out = (text: string) => process.stdout.write(`${text}\n`);
export const err = (text: string) => process.stderr.write(`${text}\n`);

/** `--json`: one JSON document on stdout. */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** A table on stdout, or `empty` on stderr when there are no rows (stdout stays empty for scripts). */
export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
  if (rows.length === 0) {
    err(empty);
    return;
  }
  for (const line of formatTable(rows, columns)) out(line);
}

/** The hint under a page that has more: the same command with --cursor. */
export function printNextCursor(next: string | null): void {
  if (next !== null) err(`more: add --cursor ${next}`);
}

export function isoTime(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-11-24T00:00:00Z');
  return new Date(ms).toISOString();
}

export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** `--limit` of a paged list: 1 to `max` (the API's bound). */
export function pageSize(max: number): (value: string) => number {
  return (value) => {
    const n = positive(value);
    if (n > max) throw new InvalidArgumentError(`expected at most ${max}`);
    return n;
  };
}

/** A comma list (`--providers aliyun,tencent`), empty items dropped. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** An option's parser from one that refuses with BadRequest: the refusal as commander's usage error (exit 2). */
export function asOption<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (e) {
      if (e instanceof BadRequest) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}

/** Writes a chunk, waiting for the pipe to drain when it is full. */
export async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
}

/**
 * Asks a yes/no question on the terminal (stderr, so stdout stays the command's output). Without a
 * terminal there is no one to ask: a UsageError naming `--yes`.
 */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError(`${question} — no terminal to confirm on: add --yes to go ahead (or --dry-run to only look)`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

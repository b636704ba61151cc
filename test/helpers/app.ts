import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import { databaseUrlFor, dropDatabaseFor } from './db';
import { watchContract } from './openapi';

export interface TestApp {
  running: RunningServer;
  url: string;
  dir: string;
  /** Every log line written, as text. */
  logs: string[];
  /** Answers the server sent that openapi/openapi.json does not allow (test/helpers/openapi.ts); close() fails with them. */
  contractViolations: string[];
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * The real server on port 0 with a real database — a SQLite file in a temp folder, or a PostgreSQL
 * database of its own in the `postgres` project — (or `opts.dir`, kept on close, to restart on the
 * same database); `config` is written to a DLR_CONFIG file (null: no config file at all).
 */
export async function startTestApp(config: object | null = {}, env: Record<string, string> = {}, opts: { dir?: string } = {}): Promise<TestApp> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-test-'));
  const fullEnv: NodeJS.ProcessEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: await databaseUrlFor(dir),
    DLR_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    ...env,
  };
  if (config !== null) {
    const file = path.join(dir, 'dlr.config.json');
    fs.writeFileSync(file, JSON.stringify(config));
    fullEnv.DLR_CONFIG = file;
  } else {
    fullEnv.DLR_CONFIG = '';
  }
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const cwd = process.cwd();
  // With no config file the default ./dlr.config.json is looked up: run from the temp folder.
  if (config === null) process.chdir(dir);
  let running: RunningServer;
  try {
    running = await startServer(loadConfig(fullEnv), createLogger(fullEnv.LOG_LEVEL!, sink));
  } finally {
    process.chdir(cwd);
  }
  // every answer checked against the OpenAPI document (DLR_CONTRACT_CHECK=off: not)
  const contract = process.env.DLR_CONTRACT_CHECK === 'off' ? { violations: [] } : watchContract(running.server);
  return {
    running,
    url: `http://127.0.0.1:${running.port}`,
    dir,
    logs,
    contractViolations: contract.violations,
    async close() {
      await running.close();
      if (!opts.dir) {
        await dropDatabaseFor(dir);
        fs.rmSync(dir, { recursive: true, force: true });
      }
      if (contract.violations.length > 0) {
        throw new Error(
          `answers that openapi/openapi.json does not allow (fix openapi/source.mjs, or the server):\n${[...new Set(contract.violations)].join('\n')}`,
        );
      }
    },
  };
}

/**
 * A config with the three seed providers on a `default` account (and any extra settings). Test
 * subscribers live on loopback, so `delivery.allowPrivateNetworks` is on unless `extra` says otherwise.
 */
export function seedConfig(account: object = {}, extra: { delivery?: object; [k: string]: unknown } = {}): object {
  return {
    providers: {
      aliyun: { accounts: { default: account } },
      tencent: { accounts: { default: account } },
      ronglian: { accounts: { default: account } },
    },
    ...extra,
    delivery: { allowPrivateNetworks: true, ...extra.delivery },
  };
}

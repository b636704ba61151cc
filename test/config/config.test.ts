import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

function withConfigFile(config: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-config-'));
  const file = path.join(dir, 'dlr.config.json');
  fs.writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

const load = (config: unknown, env: NodeJS.ProcessEnv = {}) => loadConfig({ DLR_CONFIG: withConfigFile(config), ...env });

describe('config', () => {
  it('resolves "env:NAME" references', () => {
    const c = load({ providers: { aliyun: { accounts: { default: { token: 'env:ALI_TOKEN' } } } } }, { ALI_TOKEN: 'sekret-token-1' });
    expect(c.providers.aliyun.accounts.default.token).toBe('sekret-token-1');
  });

  it('names the field whose environment variable is missing', () => {
    expect(() => load({ providers: { aliyun: { accounts: { default: { token: 'env:NOPE_TOKEN' } } } } })).toThrow(
      /providers\.aliyun\.accounts\.default\.token: environment variable NOPE_TOKEN is not set/,
    );
  });

  it.each([
    [{ providers: { aliyun: { accounts: { default: { tokne: 'x' } } } } }, /providers\.aliyun\.accounts\.default\.tokne: is not a known setting/],
    [
      { providers: { aliyun: { accounts: { default: { token: 'short' } } } } },
      /providers\.aliyun\.accounts\.default\.token: must NOT have fewer than 8 characters/,
    ],
    [
      { providers: { nosuch: { accounts: {} } } },
      /providers\.nosuch: is not a known provider \(aliyun, .*\); a provider defined by configuration needs "kind": "generic"/,
    ],
    [{ tokens: [{ token: 'long-enough-token-123', scopes: ['root'] }] }, /tokens\.0\.scopes\.0: must be equal to one of the allowed values/],
    [
      { providers: { tencent: { accounts: { default: { timeZone: 'Mars/Olympus' } } } } },
      /providers\.tencent\.accounts\.default\.timeZone: "Mars\/Olympus" is not an IANA time zone/,
    ],
    [
      { providers: { tencent: { accounts: { default: { allowIps: ['300.1.1.1/8'] } } } } },
      /providers\.tencent\.accounts\.default\.allowIps: "300\.1\.1\.1\/8"/,
    ],
    ['{ not json', /is not valid JSON/],
  ])('refuses an invalid config, naming the bad field (%#)', (config, message) => {
    expect(() => load(config)).toThrow(ConfigError);
    expect(() => load(config)).toThrow(message);
  });

  it.each([
    [
      'sqlite://./data/dlr.sqlite',
      /DATABASE_URL: "sqlite:\/\/\.\/data\/dlr\.sqlite" names a host .*write sqlite:\.\/relative\/path\.sqlite, sqlite:\/absolute\/path\.sqlite, sqlite:\/\/\/absolute/,
    ],
    ['sqlite://localhost/x.db', /names a host/],
    ['mysql://u@h/db', /DATABASE_URL: "mysql:…" is not a database URL this service takes; write sqlite:/],
    ['./data/dlr.sqlite', /is not a database URL/],
  ])('refuses a DATABASE_URL that does not say what it means (%s), listing the accepted forms', (url, message) => {
    expect(() => load({}, { DATABASE_URL: url })).toThrow(message);
  });

  it.each(['sqlite:./data/x.sqlite', 'sqlite:/tmp/x.sqlite', 'sqlite:///tmp/x.sqlite', 'postgres://u@127.0.0.1:5432/db', 'postgresql://u@127.0.0.1/db'])(
    'takes DATABASE_URL %s',
    (url) => {
      expect(load({}, { DATABASE_URL: url }).databaseUrl).toBe(url);
    },
  );

  it('refuses a body budget smaller than one body, and metrics on the main port', () => {
    expect(() => load({ server: { bodyLimitBytes: 4096, bodyBudgetBytes: 2048 } })).toThrow(
      /server\.bodyBudgetBytes: 2048 is less than server\.bodyLimitBytes \(4096\)/,
    );
    expect(() => load({ metrics: { port: 9090 } }, { PORT: '9090' })).toThrow(/metrics\.port: 9090 is the main PORT/);
    expect(load({ server: { bodyLimitBytes: 128 * 1024 * 1024 } }).server.bodyBudgetBytes).toBe(128 * 1024 * 1024);
  });

  it('refuses a DLR_CONFIG that does not exist', () => {
    expect(() => loadConfig({ DLR_CONFIG: '/nonexistent/dlr.json' })).toThrow(/does not exist/);
  });

  it('runs the unsigned providers on a default account, with a warning, when there is no config file', () => {
    const cwd = process.cwd();
    process.chdir(fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-noconfig-')));
    try {
      const c = loadConfig({});
      expect(Object.keys(c.providers).sort()).toEqual(['aliyun', 'ronglian', 'tencent']);
      expect(c.providers.aliyun.accounts.default).toEqual({ timeZone: 'Asia/Shanghai', timestampToleranceSeconds: 300, finalAfterSeconds: 259_200 });
      expect(c.warnings.join()).toMatch(/no config file/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('warns about an unsigned account with neither token nor allowIps', () => {
    const c = load({ providers: { aliyun: { accounts: { default: {}, shop: { token: 'a-long-token' } } } } });
    expect(c.warnings).toEqual([
      'providers.aliyun.accounts.default has neither token nor allowIps: anyone can post reports to it',
      'no API token is configured (DLR_ADMIN_TOKEN or "tokens"): the read, replay and admin APIs and the console answer 401 to everyone',
    ]);
    // with a token, only the account's warning
    expect(load({ providers: { aliyun: { accounts: { default: {} } } } }, { DLR_ADMIN_TOKEN: 'an-admin-token-0123' }).warnings).toEqual([
      'providers.aliyun.accounts.default has neither token nor allowIps: anyone can post reports to it',
    ]);
  });

  it('reads the environment settings of the contract, with their defaults', () => {
    const c = load({}, { DLR_ADMIN_TOKEN: 'admin-token-0123456789' });
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', databaseUrl: 'sqlite:./data/dlr.sqlite', logLevel: 'info', worker: true });
    expect(c.tokens).toEqual([{ name: 'admin (DLR_ADMIN_TOKEN)', token: 'admin-token-0123456789', scopes: ['read', 'replay', 'admin'] }]);
    expect(() => load({}, { DLR_WORKER: 'maybe' })).toThrow(/DLR_WORKER/);
    expect(() => load({}, { PORT: 'eighty' })).toThrow(/PORT/);
  });
});

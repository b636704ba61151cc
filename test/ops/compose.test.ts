import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config';
import { describeDatabaseUrl } from '../../src/db/connect';

/**
 * examples/compose.postgres.yaml works as written (issue #16). No container runtime runs in CI
 * (the machine has a docker client and no daemon), so what `docker compose up` relies on is
 * checked here: the build context holds the Dockerfile, the mounted config exists and passes the
 * service's own loading, every environment variable is one the service reads, the database URL
 * names the postgres service with its password and database, and both replicas share it.
 */
const ROOT = path.resolve(__dirname, '../..');
const EXAMPLES = path.join(ROOT, 'examples');
const FILE = path.join(EXAMPLES, 'compose.postgres.yaml');

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = parse(fs.readFileSync(FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const replicas = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

/** The variables the service reads (CONTRACT.md "Running", docs/configuration.md). */
const READ_BY_THE_SERVICE = ['PORT', 'HOST', 'DATABASE_URL', 'DATABASE_POOL_SIZE', 'DLR_CONFIG', 'DLR_ADMIN_TOKEN', 'LOG_LEVEL', 'DLR_WORKER'];

describe('examples/compose.postgres.yaml', () => {
  it('builds two replicas from the repository root, which holds the Dockerfile', () => {
    expect(replicas.map(([name]) => name)).toEqual(['dlr-a', 'dlr-b']);
    for (const [, s] of replicas) expect(fs.existsSync(path.join(path.resolve(EXAMPLES, s.build!), 'Dockerfile'))).toBe(true);
    expect(new Set(replicas.map(([, s]) => s.ports!.join()))).toEqual(new Set(['8081:8080', '8082:8080']));
  });

  it('mounts a config that exists and loads as the service loads it', () => {
    for (const [, s] of replicas) {
      const mount = s.volumes!.find((v) => v.endsWith(`:${s.environment!.DLR_CONFIG}:ro`))!;
      expect(mount).toBeDefined();
      const host = path.resolve(EXAMPLES, mount.split(':')[0]);
      expect(fs.existsSync(host)).toBe(true);
      const config = loadConfig({ DLR_CONFIG: host, DATABASE_URL: s.environment!.DATABASE_URL, DATABASE_POOL_SIZE: s.environment!.DATABASE_POOL_SIZE });
      expect(Object.keys(config.providers).length).toBeGreaterThan(0);
      expect(config.databaseUrl).toBe(s.environment!.DATABASE_URL);
    }
  });

  it('sets only variables the service reads, and points every replica at the postgres service once it is healthy', () => {
    const pg = compose.services.postgres;
    expect(pg.image).toMatch(/^postgres:\d+/);
    expect(pg.healthcheck?.test.join(' ')).toContain('pg_isready');
    const expected = `postgres://postgres:${pg.environment!.POSTGRES_PASSWORD}@postgres:5432/${pg.environment!.POSTGRES_DB}`;
    for (const [, s] of replicas) {
      expect(Object.keys(s.environment!).filter((k) => !READ_BY_THE_SERVICE.includes(k))).toEqual([]);
      expect(s.environment!.DATABASE_URL).toBe(expected);
      expect(describeDatabaseUrl(s.environment!.DATABASE_URL)).not.toContain(`:${pg.environment!.POSTGRES_PASSWORD}@`); // the start-up log names it without the password
      expect(s.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
      expect(s.environment!.DLR_ADMIN_TOKEN).toMatch(/^\$\{DLR_ADMIN_TOKEN:\?/); // compose refuses to start without it
    }
  });
});

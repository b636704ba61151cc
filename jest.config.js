/**
 * Two projects: every test on SQLite, and the integration suite again on PostgreSQL when
 * DLR_TEST_PG_URL names a server (an admin URL; each test app gets a database of its own).
 * `.ci/run` starts a throwaway server and sets it.
 */
const base = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
};

const projects = [{ ...base, displayName: 'sqlite', roots: ['<rootDir>/test'] }];
if (process.env.DLR_TEST_PG_URL) {
  projects.push({ ...base, displayName: 'postgres', roots: ['<rootDir>/test/integration'], setupFiles: ['<rootDir>/test/helpers/postgres-project.js'] });
} else if (!process.env.DLR_TEST_PG_QUIET) {
  process.stderr.write('PostgreSQL tests skipped: DLR_TEST_PG_URL is not set (`bash .ci/run` starts a server on 127.0.0.1 and sets it).\n');
  process.env.DLR_TEST_PG_QUIET = '1'; // once, not once per worker
}

/** @type {import('jest').Config} */
module.exports = {
  projects,
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};

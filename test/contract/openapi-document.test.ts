import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The OpenAPI document (openapi/openapi.json) passes `@redocly/cli lint` (recommended-strict, with
 * the exceptions redocly.yaml explains), and it and the types generated from it
 * (src/client/openapi-types.ts) are what `npm run openapi:types` builds from openapi/source.mjs now.
 */
const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

describe('the OpenAPI document', () => {
  it('passes redocly lint with no error or warning', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', 'openapi/openapi.json', '--format', 'json'],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect({ totals: report.totals, problems: report.problems.map((p) => `${p.ruleId}: ${p.message}`) }).toEqual({
      totals: expect.objectContaining({ errors: 0, warnings: 0 }),
      problems: [],
    });
    expect(stderr).not.toMatch(/error/i);
  }, 60000);

  it('and the generated types are up to date with openapi/source.mjs (`npm run openapi:types` rebuilds them)', async () => {
    await expect(run(process.execPath, [path.join(ROOT, 'openapi', 'build.mjs'), '--check'], { cwd: ROOT })).resolves.toBeDefined();
  }, 60000);
});

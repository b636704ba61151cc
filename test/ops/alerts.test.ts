import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALERTS_FILE,
  ALERTS_TEST_FILE,
  hasPromtool,
  metricNames,
  panelQueries,
  promtool,
  readAlerts,
  readDashboard,
  variableMetrics,
  withoutGrafanaVariables,
} from './deploy';

if (!hasPromtool) {
  process.stderr.write(
    'Prometheus rule tests skipped: promtool is missing (Debian: apt-get install -y --no-install-recommends prometheus; .ci/run installs it).\n',
  );
}
const describePromtool = hasPromtool ? describe : describe.skip;

/** The alerts docs/operations.md describes, one each for what issue #16 asks. */
const ALERTS = [
  'DlrDeliveryRateLow',
  'DlrSignatureInvalidSurge',
  'DlrNoCallbacks',
  'DlrOutboxOldestPendingOld',
  'DlrDeadDeliveriesGrowing',
  'DlrStaleMessagesGrowing',
];

describe('deploy/prometheus/alerts.yml', () => {
  const rules = readAlerts();

  it('has each alert, with a for:, a severity and a summary and description that say what to check', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([...ALERTS].sort());
    for (const r of rules) {
      expect({ alert: r.alert, for: r.for }).toEqual({ alert: r.alert, for: expect.stringMatching(/^\d+[smh]$/) });
      expect([r.alert, r.labels.severity]).toEqual([r.alert, expect.stringMatching(/^(warning|critical)$/)]);
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toMatch(/GET \/v1\//); // where to look
      expect(metricNames(r.expr).length).toBeGreaterThan(0);
    }
  });

  it('is described in docs/operations.md', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/operations.md'), 'utf8');
    for (const name of ALERTS) expect(doc).toContain(`\`${name}\``);
  });

  it('has a unit test (alerts.test.yml) for every alert, firing and silent', () => {
    const tests = fs.readFileSync(ALERTS_TEST_FILE, 'utf8');
    for (const name of ALERTS) {
      expect(tests).toMatch(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`)); // fires
      expect(tests).toMatch(new RegExp(`alertname: ${name},? exp_alerts: \\[\\]|alertname: ${name}\\n\\s+exp_alerts: \\[\\]`)); // stays silent
    }
  });

  describePromtool('promtool', () => {
    it('checks the rules', () => {
      const { status, output } = promtool('check', 'rules', ALERTS_FILE);
      expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`) });
    });

    it('passes the rules unit tests (alerts.test.yml)', () => {
      const { status, output } = promtool('test', 'rules', ALERTS_TEST_FILE);
      expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    });

    it('parses every query of the dashboard', () => {
      // as recording rules of a throwaway file: promtool parses their expressions
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-dashboard-rules-'));
      try {
        const dashboard = readDashboard();
        const exprs = [...panelQueries(dashboard), ...variableMetrics(dashboard)].map((q) => withoutGrafanaVariables(q.expr));
        const rules = exprs.map((e, i) => `      - record: dashboard:query${i}\n        expr: ${JSON.stringify(e)}\n`).join('');
        const file = path.join(dir, 'dashboard.rules.yml');
        fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
        const { status, output } = promtool('check', 'rules', file);
        expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${exprs.length} rules found`) });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('metricNames', () => {
  it('finds the metrics of a query, not its functions, labels, keywords or durations', () => {
    expect(
      metricNames(
        'sum by (provider) (increase(dlr_a_total{to="delivered"}[1h])) / on (provider) group_left dlr_b offset 5m > 0.9 unless time() - max(dlr_c_seconds[$__rate_interval]) < 1e3',
      ).sort(),
    ).toEqual(['dlr_a_total', 'dlr_b', 'dlr_c_seconds']);
    expect(metricNames('histogram_quantile(0.5, sum(rate(x_bucket{provider=~"$provider"}[5m])) by (le))')).toEqual(['x_bucket']);
  });
});

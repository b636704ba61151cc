import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';

/** What test/ops reads of deploy/: the alerting rules and the Grafana dashboard. */

export const ROOT = path.resolve(__dirname, '../..');
export const ALERTS_FILE = path.join(ROOT, 'deploy/prometheus/alerts.yml');
export const ALERTS_TEST_FILE = path.join(ROOT, 'deploy/prometheus/alerts.test.yml');
export const DASHBOARD_FILE = path.join(ROOT, 'deploy/grafana/dlr-receiver.json');

/** Whether promtool runs here (Debian: `apt-get install -y --no-install-recommends prometheus`). */
export const hasPromtool = (() => {
  const run = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return run.error === undefined && run.status === 0;
})();

export function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The alerting rules of alerts.yml (promtool checks the file itself). */
export function readAlerts(text = fs.readFileSync(ALERTS_FILE, 'utf8')): AlertRule[] {
  const doc = parse(text) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules).map((r) => ({ ...r, expr: r.expr.trim() }));
}

export interface DashboardQuery {
  /** The panel's title, or the variable's name. */
  where: string;
  expr: string;
}

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}

export interface Dashboard {
  schemaVersion: number;
  __inputs?: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel, rows' panels included (rows themselves left out). */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** The PromQL of every panel target. */
export function panelQueries(dashboard: Dashboard): DashboardQuery[] {
  return panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr ?? '' })));
}

/** The metric each query variable reads (`label_values(metric{…}, label)`). */
export function variableMetrics(dashboard: Dashboard): DashboardQuery[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : ((v.query as { query?: string }).query ?? '');
      const m = /^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/.exec(query);
      return { where: `variable ${v.name}`, expr: m ? m[1] : query };
    });
}

/** A query with Grafana's variables replaced by what Prometheus could parse. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?[A-Za-z_]\w*\}?/g, '.*');
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads: identifiers outside strings, label matchers, ranges
 * and label lists, that are not functions (followed by "("), keywords or parts of numbers/durations.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const before = s[m.index - 1] ?? ' ';
    if (/[0-9.$]/.test(before)) continue;
    if (
      s
        .slice(m.index + m[0].length)
        .trimStart()
        .startsWith('(')
    )
      continue;
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseScrape(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

// The shipped alert rules and Grafana dashboard: promtool accepts the rules and its rule tests show each alert firing
// on the series that should raise it (and not on healthy ones); every metric a rule or a panel queries is one
// Keelson's registry exports (or Prometheus' `up`); the chart and manifests/optional/ carry the same copies.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createMetrics } from '../../../src/observe/metrics.js';
import { MANIFESTS, ROOT, readObjects } from '../../support/manifests.js';

type Any = any;
const FILES = join(ROOT, 'charts', 'keelson', 'files');
const RULES_FILE = join(FILES, 'prometheus-rules.yaml');
const rules = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Any[] }[] };
const dashboardText = readFileSync(join(FILES, 'grafana-dashboard.json'), 'utf8');
const dashboard = JSON.parse(dashboardText) as Any;
const tmp = mkdtempSync(join(tmpdir(), 'keelson-alerts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed (Debian package "prometheus", listed in scripts/ci-packages.txt):\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression selects: identifiers outside strings, matchers, ranges and label lists, not calls. */
export function metricNames(expr: string): string[] {
  const t = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of t.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!) || /^\d/.test(m[1]!)) continue;
    out.add(m[1]!);
  }
  return [...out];
}

async function exported(): Promise<Set<string>> {
  const m = createMetrics();
  const names = new Set<string>(['up']);
  for (const x of await m.registry.getMetricsAsJSON()) {
    names.add(x.name);
    if (String(x.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(x.name + s);
    if (String(x.type) === 'summary') for (const s of ['_sum', '_count']) names.add(x.name + s);
  }
  return names;
}

const alerts = rules.groups.flatMap((g) => g.rules);
const panelExprs = (dashboard.panels as Any[]).flatMap((p) => (p.targets ?? []).map((t: Any) => ({ panel: p.title as string, expr: t.expr as string })));

describe('alert rules and dashboard: copies', () => {
  it('manifests/optional/prometheusrule.yaml holds exactly the chart\'s rules', () => {
    const [pr] = readObjects(join(MANIFESTS, 'optional', 'prometheusrule.yaml')) as Any[];
    assert.equal(pr.kind, 'PrometheusRule');
    assert.deepEqual(pr.spec, rules);
  });
  it('manifests/optional/grafana-dashboard.json is the chart\'s dashboard, byte for byte', () => {
    assert.equal(readFileSync(join(MANIFESTS, 'optional', 'grafana-dashboard.json'), 'utf8'), dashboardText);
  });
  it('the rules cover the documented alerts, each with a severity, a summary and a description', () => {
    const names = alerts.map((r) => r.alert);
    for (const a of ['KeelsonControllerDown', 'KeelsonNoLeader', 'KeelsonGitSyncNotReady', 'KeelsonRolloutFailed', 'KeelsonUnsealFailures', 'KeelsonWatchRestarts', 'KeelsonWorkQueueStuck']) {
      assert.ok(names.includes(a), `missing alert ${a}`);
    }
    for (const r of alerts) {
      assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity), `${r.alert}: severity`);
      assert.ok(r.annotations?.summary && r.annotations?.description, `${r.alert}: summary and description`);
    }
  });
});

describe('alert rules and dashboard: metrics', () => {
  it('the metric-name extraction finds selectors, not functions, labels or keywords', () => {
    assert.deepEqual(metricNames('(max by (queue) (a_b * on (job, instance) group_left c{x="y{z}"}) > 0) unless on (queue) (sum by (queue) (rate(d_total[10m])) > 0)').sort(), ['a_b', 'c', 'd_total']);
    assert.deepEqual(metricNames('time() - max by (namespace, name) (k_ts{job=~"$job"})'), ['k_ts']);
  });

  it('every metric a rule queries is exported by Keelson (or is Prometheus\' up)', async () => {
    const have = await exported();
    for (const r of alerts) {
      const names = metricNames(r.expr);
      assert.ok(names.length > 0, `${r.alert}: no metric found in ${r.expr}`);
      for (const n of names) assert.ok(have.has(n), `${r.alert} queries ${n}, which Keelson does not export`);
    }
  });

  it('every metric a dashboard panel queries is exported by Keelson (or is Prometheus\' up)', async () => {
    const have = await exported();
    assert.ok(panelExprs.length >= 20);
    for (const { panel, expr } of panelExprs) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${panel}: no metric found in ${expr}`);
      for (const n of names) assert.ok(have.has(n), `panel "${panel}" queries ${n}, which Keelson does not export`);
    }
  });

  it('the dashboard has unique panel ids, a data source variable and a job variable', () => {
    const ids = (dashboard.panels as Any[]).map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual((dashboard.templating.list as Any[]).map((v) => v.name), ['datasource', 'job']);
    assert.equal(dashboard.uid, 'keelson');
  });
});

/** The annotations Prometheus renders for an alert with these labels (the rules use only {{ $labels.x }}). */
function annotationsFor(alert: string, labels: Record<string, string>): Record<string, string> {
  const r = alerts.find((x) => x.alert === alert)!;
  return Object.fromEntries(Object.entries(r.annotations as Record<string, string>).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l: string) => labels[l] ?? '')]));
}

function expect(alert: string, labels: Record<string, string>) {
  const all = { alertname: alert, ...labels, severity: alerts.find((x) => x.alert === alert)!.labels.severity as string };
  return { exp_labels: { ...labels, severity: all.severity }, exp_annotations: annotationsFor(alert, labels) };
}

describe('alert rules: promtool', () => {
  it('promtool check rules accepts the rule file', () => {
    assert.match(promtool('check', 'rules', RULES_FILE), /SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: each alert fires on its failure and stays quiet when healthy', () => {
    const j = 'job="keelson"';
    const tests = {
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: `up{${j},instance="a"}`, values: '0x20' },
            { series: `keelson_leader{${j},instance="a"}`, values: '0x20' },
            { series: `keelson_gitsync_runs_total{${j},instance="a",namespace="shop",name="site",result="failure"}`, values: '0+1x40' },
            { series: `keelson_gitsync_runs_total{${j},instance="a",namespace="ok",name="fine",result="failure"}`, values: '0+1x40' },
            { series: `keelson_gitsync_runs_total{${j},instance="a",namespace="ok",name="fine",result="success"}`, values: '0+1x40' },
            { series: `keelson_rollouts_total{${j},instance="a",kind="Deployment",result="failed"}`, values: '0 0 1x20' },
            { series: `keelson_rollouts_total{${j},instance="a",kind="StatefulSet",result="complete"}`, values: '0+1x20' },
            { series: `keelson_unseal_total{${j},instance="a",result="error"}`, values: '0+1x20' },
            { series: `keelson_unseal_total{${j},instance="a",result="ok"}`, values: '0+5x20' },
            { series: `keelson_watch_restarts_total{${j},instance="a",resource="secrets"}`, values: '0+2x40' },
            { series: `keelson_watch_restarts_total{${j},instance="a",resource="configmaps"}`, values: '0+0.2x40' },
            { series: `keelson_notifications_total{${j},instance="a",type="slack",result="failure"}`, values: '0+1x40' },
            { series: `keelson_notifications_total{${j},instance="a",type="webhook",result="success"}`, values: '0+1x40' },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: 'KeelsonControllerDown', exp_alerts: [] },
            { eval_time: '10m', alertname: 'KeelsonControllerDown', exp_alerts: [expect('KeelsonControllerDown', { job: '.*keelson.*' })].map((a) => ({ ...a, exp_labels: { severity: 'critical' } })) },
            { eval_time: '10m', alertname: 'KeelsonNoLeader', exp_alerts: [expect('KeelsonNoLeader', {})] },
            { eval_time: '8m', alertname: 'KeelsonGitSyncNotReady', exp_alerts: [] },
            { eval_time: '25m', alertname: 'KeelsonGitSyncNotReady', exp_alerts: [expect('KeelsonGitSyncNotReady', { namespace: 'shop', name: 'site' })] },
            { eval_time: '5m', alertname: 'KeelsonRolloutFailed', exp_alerts: [expect('KeelsonRolloutFailed', { kind: 'Deployment' })] },
            { eval_time: '10m', alertname: 'KeelsonUnsealFailures', exp_alerts: [expect('KeelsonUnsealFailures', {})] },
            { eval_time: '35m', alertname: 'KeelsonWatchRestarts', exp_alerts: [expect('KeelsonWatchRestarts', { resource: 'secrets' })] },
            { eval_time: '35m', alertname: 'KeelsonNotificationsFailing', exp_alerts: [expect('KeelsonNotificationsFailing', { type: 'slack' })] },
          ],
        },
        {
          // A healthy pair: the leader reconciles; a standby's queue fills (it never starts) but is not the leader.
          interval: '1m',
          input_series: [
            { series: `up{${j},instance="a"}`, values: '1x30' },
            { series: `up{${j},instance="b"}`, values: '1x30' },
            { series: `keelson_leader{${j},instance="a"}`, values: '1x30' },
            { series: `keelson_leader{${j},instance="b"}`, values: '0x30' },
            { series: `keelson_workqueue_depth{${j},instance="a",queue="reload"}`, values: '2x30' },
            { series: `keelson_reconcile_total{${j},instance="a",queue="reload",result="ok"}`, values: '0+3x30' },
            { series: `keelson_workqueue_depth{${j},instance="b",queue="gitsync"}`, values: '4x30' },
            { series: `keelson_workqueue_depth{${j},instance="a",queue="gitsync"}`, values: '0x30' },
          ],
          alert_rule_test: ['KeelsonControllerDown', 'KeelsonNoLeader', 'KeelsonWorkQueueStuck', 'KeelsonGitSyncNotReady']
            .map((alertname) => ({ eval_time: '30m', alertname, exp_alerts: [] })),
        },
        {
          // The leader's queue holds keys and nothing is reconciled: stuck.
          interval: '1m',
          input_series: [
            { series: `keelson_leader{${j},instance="a"}`, values: '1x30' },
            { series: `keelson_workqueue_depth{${j},instance="a",queue="gitsync"}`, values: '5x30' },
            { series: `keelson_reconcile_total{${j},instance="a",queue="gitsync",result="ok"}`, values: '7x30' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'KeelsonWorkQueueStuck', exp_alerts: [] },
            { eval_time: '30m', alertname: 'KeelsonWorkQueueStuck', exp_alerts: [expect('KeelsonWorkQueueStuck', { queue: 'gitsync' })] },
          ],
        },
      ],
    };
    const file = join(tmp, 'rules.test.yaml');
    writeFileSync(file, stringify(tests));
    assert.match(promtool('test', 'rules', file), /SUCCESS/);
  });
});

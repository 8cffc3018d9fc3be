import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BenchResult, type RunReport, atMost, equals, figuresTable, fmt, goalsTable, ratio, updateReadme } from '../../../bench/support/report.js';
import { percentile, summarize } from '../../../bench/support/stats.js';

describe('percentile and summarize', () => {
  it('uses the nearest rank', () => {
    const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    assert.equal(percentile(xs, 50), 5);
    assert.equal(percentile(xs, 90), 9);
    assert.equal(percentile(xs, 99), 10);
    assert.equal(percentile(xs, 0), 1);
    assert.equal(percentile([42], 99), 42);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
  it('summarizes without reordering its input', () => {
    const xs = [3, 1, 2];
    assert.deepEqual(summarize(xs), { n: 3, min: 1, p50: 2, p90: 3, p99: 3, max: 3, mean: 2 });
    assert.deepEqual(xs, [3, 1, 2]);
  });
});

describe('goals', () => {
  it('passes at the limit and misses above it or on NaN', () => {
    assert.equal(atMost('p50 ≤ 1.5×', 1.5, 1.5, '×').pass, true);
    assert.equal(atMost('p50 ≤ 1.5×', 1.51, 1.5, '×').pass, false);
    assert.equal(atMost('x', ratio(1, 0), 1, '×').pass, false);
    assert.equal(atMost('RSS', 96.4, 150, 'MiB').actual, '96.4 MiB');
    assert.equal(atMost('r', 1.234, 2, '×').actual, '1.23×');
    assert.deepEqual(equals('rolls = 3', 3, 3), { goal: 'rolls = 3', actual: '3', pass: true });
  });
  it('formats numbers to a readable precision', () => {
    assert.equal(fmt(1234.5), '1235');
    assert.equal(fmt(12.34), '12.3');
    assert.equal(fmt(1.234), '1.23');
    assert.equal(fmt(0.1234), '0.123');
    assert.equal(fmt(7), '7');
  });
});

const result: BenchResult = {
  name: 'reload-latency', title: 't', params: {}, durationMs: 1, notes: [],
  figures: [{ name: 'latency p50', unit: 'ms', keelson: 6, reference: 4, referenceName: 'ideal' }, { name: 'rolls', unit: 'count', keelson: 3, note: 'must be 3' }],
  goals: [atMost('p50 ≤ 1.5× ideal', 1.5, 1.5, '×')],
};
const report: RunReport = {
  schema: 'keelson-bench/v1', mode: 'full', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:10:00.000Z',
  machine: { cpus: 2, cpuModel: 'CPU', memoryMiB: 1024, os: 'Linux', loadAverage: [0, 0, 0] },
  node: 'v24.0.0', controlPlane: '1.20.2', kubectl: 'v1.20.2', keelson: { version: '0.1.0', commit: 'abcdef0123456789' }, results: [result],
};

describe('tables', () => {
  it('shows each figure with its reference and ratio, and each goal with pass or MISS', () => {
    const f = figuresTable([result]);
    assert.match(f, /\| reload-latency \| latency p50 \| 6 ms +\| 4 ms +\| 1\.50× \| ideal/);
    assert.match(f, /\| rolls +\| 3 +\| +\| +\| must be 3/);
    assert.match(goalsTable([result]), /\| reload-latency \| p50 ≤ 1\.5× ideal \| 1\.50× +\| pass +\|/);
    assert.match(goalsTable([{ ...result, goals: [atMost('g', 2, 1, '×')] }]), /MISS/);
  });
  it('reports an error row for a benchmark that failed', () => {
    assert.match(figuresTable([{ ...result, figures: [], error: 'Error: boom\n at x' }]), /\| reload-latency \| ERROR +\| Error: boom/);
  });
});

describe('updateReadme', () => {
  it('replaces only the block between the markers', () => {
    const readme = 'intro\n<!-- bench-results:start -->\nold\n<!-- bench-results:end -->\noutro\n';
    const out = updateReadme(readme, report, 'r.json');
    assert.ok(out.startsWith('intro\n<!-- bench-results:start -->\n'));
    assert.ok(out.endsWith('<!-- bench-results:end -->\noutro\n'));
    assert.doesNotMatch(out, /\nold\n/);
    assert.match(out, /`bench\/results\/r\.json`\): 2 × CPU, 1024 MiB RAM, Node v24\.0\.0, control plane 1\.20\.2, kubectl v1\.20\.2, Keelson 0\.1\.0 \(abcdef0123\)/);
    assert.equal(updateReadme('no markers', report, 'r.json'), 'no markers');
  });
});

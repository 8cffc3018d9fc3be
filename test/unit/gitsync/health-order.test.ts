import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type OrderRecord, dependencyBlock, findCycle, orderRecord, readyAtLatest } from '../../../src/gitsync/depends.js';
import { type TargetHealth, checksHealth, describeTarget, healthTargets, pendingWaitStart, pollDelay, waitOutcome } from '../../../src/gitsync/health-wait.js';
import { type GitSyncStatus, SpecError, parseHealthAndOrder, parseSpec } from '../../../src/gitsync/spec.js';
import type { Health } from '../../../src/kube/health.js';
import { cpuMs } from '../../support/props.js';

const REV = 'main@sha1:' + 'a'.repeat(40);

describe('spec: wait, healthChecks, dependsOn', () => {
  it('defaults: no wait, no checks, no dependencies', () => {
    assert.deepEqual(parseHealthAndOrder({}, 'team'), { wait: false, healthChecks: [], dependsOn: [] });
  });
  it('reads them, defaulting namespaces to the GitSync\'s and dropping duplicate dependencies', () => {
    const s = parseSpec({ metadata: { name: 'g', namespace: 'team' }, spec: {
      url: 'https://h/r.git', wait: true,
      healthChecks: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, { apiVersion: 'v1', kind: 'Namespace', name: 'shop', namespace: 'other' }],
      dependsOn: [{ name: 'infra' }, { name: 'infra', namespace: 'team' }, { name: 'crds', namespace: 'platform' }],
    } });
    assert.equal(s.wait, true);
    assert.deepEqual(s.healthChecks, [
      { group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: 'team' },
      { group: '', version: 'v1', kind: 'Namespace', name: 'shop', namespace: 'other' },
    ]);
    assert.deepEqual(s.dependsOn, [{ namespace: 'team', name: 'infra' }, { namespace: 'platform', name: 'crds' }]);
  });
  it('rejects bad entries naming the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ wait: 'yes' }, /spec.wait must be true or false/],
      [{ healthChecks: {} }, /spec.healthChecks must be a list/],
      [{ healthChecks: ['x'] }, /spec.healthChecks\[0\] must be an object/],
      [{ healthChecks: [{ apiVersion: 'apps/v1/x', kind: 'Deployment', name: 'a' }] }, /apiVersion/],
      [{ healthChecks: [{ apiVersion: 'v1', kind: 'not a kind', name: 'a' }] }, /kind/],
      [{ healthChecks: [{ apiVersion: 'v1', kind: 'Pod' }] }, /spec.healthChecks\[0\].name is required/],
      [{ healthChecks: [{ apiVersion: 'v1', kind: 'Pod', name: 'a', namespace: 'A_B' }] }, /namespace/],
      [{ healthChecks: Array.from({ length: 101 }, () => ({ apiVersion: 'v1', kind: 'Pod', name: 'a' })) }, /at most 100/],
      [{ dependsOn: [{ namespace: 'x' }] }, /spec.dependsOn\[0\].name is required/],
      [{ dependsOn: [{ name: '../x' }] }, /not a valid name/],
      [{ dependsOn: Array.from({ length: 33 }, (_, i) => ({ name: `d${i}` })) }, /at most 32/],
    ];
    for (const [spec, re] of bad) assert.throws(() => parseHealthAndOrder(spec, 'team'), (e: unknown) => e instanceof SpecError && re.test(e.message), JSON.stringify(spec).slice(0, 100));
  });
  it('only ever throws SpecError on any input (property)', () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('wait', 'healthChecks', 'dependsOn'), fc.anything({ maxDepth: 3 })), (spec) => {
      try { parseHealthAndOrder(spec, 'team'); } catch (e) { assert.ok(e instanceof SpecError, String(e)); }
    }), { numRuns: 1000 });
  });
});

describe('health targets and outcome', () => {
  const inventory = [{ id: 'shop_web_apps_Deployment', v: 'v1' }, { id: '_shop__Namespace', v: 'v1' }, { id: 'bad', v: 'v1' }];
  it('waits only when asked', () => {
    assert.equal(checksHealth({ wait: false, healthChecks: [] }), false);
    assert.equal(checksHealth({ wait: true, healthChecks: [] }), true);
    assert.equal(checksHealth({ wait: false, healthChecks: [{ group: '', version: 'v1', kind: 'Pod', name: 'p', namespace: 'x' }] }), true);
  });
  it('with wait checks every object of the revision plus the named ones, each once', () => {
    const t = healthTargets({ wait: true, healthChecks: [{ group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: 'shop' }, { group: 'batch', version: 'v1', kind: 'Job', name: 'migrate', namespace: 'shop' }] }, inventory);
    assert.deepEqual(t.map((x) => [describeTarget(x), x.applied]), [['Deployment shop/web', true], ['Namespace shop', true], ['Job shop/migrate', false]]);
  });
  it('without wait checks only the named ones', () => {
    const t = healthTargets({ wait: false, healthChecks: [{ group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: 'shop' }] }, inventory);
    assert.deepEqual(t.map(describeTarget), ['Deployment shop/web']);
  });

  const r = (name: string, health: Health): TargetHealth => ({ target: { group: 'apps', version: 'v1', kind: 'Deployment', name, namespace: 'shop', applied: true }, health });
  const ok = (name: string) => r(name, { status: 'healthy', detail: 'fine' });
  const slow = (name: string) => r(name, { status: 'progressing', detail: '0 of 1 updated replicas available' });
  const bad = (name: string) => r(name, { status: 'failed', detail: '1 of 3 replicas unavailable, ProgressDeadlineExceeded' });

  it('healthy when every object is', () => {
    assert.deepEqual(waitOutcome([ok('a'), ok('b')], 0, 1000, 60_000), { state: 'healthy', message: '2 objects healthy' });
    assert.equal(waitOutcome([], 0, 0, 1).state, 'healthy');
  });
  it('waits while some progress, looking again soon but not past the deadline', () => {
    const o = waitOutcome([ok('a'), slow('web')], 0, 1000, 60_000);
    assert.equal(o.state, 'waiting');
    assert.match(o.message, /waiting for 1 of 2 objects to become healthy: Deployment shop\/web: 0 of 1 updated replicas available/);
    assert.equal(o.state === 'waiting' && o.retryMs, 2000);
    const late = waitOutcome([slow('web')], 0, 59_500, 60_000);
    assert.equal(late.state === 'waiting' && late.retryMs, 500);
  });
  it('fails past the timeout, naming the objects and why', () => {
    const o = waitOutcome([ok('a'), slow('web')], 0, 60_000, 60_000);
    assert.deepEqual(o, { state: 'failed', message: 'health check failed after 60s (spec.timeout 60s): Deployment shop/web: 0 of 1 updated replicas available' });
  });
  it('fails at once when an object failed, before the timeout', () => {
    const o = waitOutcome([bad('web'), slow('api')], 0, 1000, 60_000);
    assert.equal(o.state, 'failed');
    assert.match(o.message, /^health check failed: Deployment shop\/web: 1 of 3 replicas unavailable, ProgressDeadlineExceeded; Deployment shop\/api/);
  });
  it('names at most five objects and counts the rest', () => {
    const o = waitOutcome(Array.from({ length: 8 }, (_, i) => slow(`w${i}`)), 0, 1000, 60_000);
    assert.match(o.message, /w4: .*; and 3 more$/);
    assert.doesNotMatch(o.message, /w5/);
  });
  it('looks again every 2 s, then every 5 s', () => {
    assert.equal(pollDelay(0), 2000);
    assert.equal(pollDelay(29_999), 2000);
    assert.equal(pollDelay(30_000), 5000);
  });
  it('continues a wait recorded in status only at the same generation and without a new sync request', () => {
    const st: GitSyncStatus = { observedGeneration: 2, healthCheckStartedAt: '2026-01-01T00:00:00.000Z', lastHandledRequestedAt: 'r1' };
    assert.equal(pendingWaitStart(st, 2, 'r1'), Date.parse('2026-01-01T00:00:00.000Z'));
    assert.equal(pendingWaitStart(st, 3, 'r1'), undefined, 'a new generation syncs again');
    assert.equal(pendingWaitStart(st, 2, 'r2'), undefined, 'keelson sync / a webhook syncs again');
    assert.equal(pendingWaitStart({ ...st, healthCheckStartedAt: null }, 2, 'r1'), undefined);
    assert.equal(pendingWaitStart({ ...st, healthCheckStartedAt: 'garbage' }, 2, 'r1'), undefined);
    assert.equal(pendingWaitStart({ observedGeneration: 1, healthCheckStartedAt: '2026-01-01T00:00:00Z' }, 1, undefined), Date.parse('2026-01-01T00:00:00Z'));
  });
});

describe('dependsOn', () => {
  const ready = (gen = 1, over: GitSyncStatus = {}): GitSyncStatus => ({
    observedGeneration: gen, lastAppliedRevision: REV, lastAttemptedRevision: REV,
    conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: '', observedGeneration: gen }], ...over,
  });
  it('Ready at the latest revision: Ready=True, current generation, applied what was attempted, not waiting', () => {
    assert.equal(readyAtLatest(ready(), 1).ready, true);
    assert.deepEqual(readyAtLatest(ready(), 2), { ready: false, state: 'its latest generation is not reconciled yet' });
    assert.equal(readyAtLatest(ready(1, { lastAttemptedRevision: 'main@sha1:' + 'b'.repeat(40) }), 1).ready, false);
    assert.equal(readyAtLatest(ready(1, { healthCheckStartedAt: '2026-01-01T00:00:00Z' }), 1).ready, false);
    assert.deepEqual(readyAtLatest(ready(1, { conditions: [{ type: 'Ready', status: 'False', reason: 'HealthCheckFailed', message: 'x', observedGeneration: 1 }] }), 1), { ready: false, state: 'Ready=False (HealthCheckFailed)' });
    assert.equal(readyAtLatest(ready(1, { conditions: [{ type: 'Ready', status: 'True', reason: 'R', message: '', observedGeneration: 0 }] }), 1).ready, false);
    assert.equal(readyAtLatest(undefined, 1).ready, false);
  });
  it('the store record keeps the dependency keys and readiness', () => {
    const r = orderRecord({ metadata: { name: 'b', namespace: 'team', generation: 1 }, spec: { dependsOn: [{ name: 'a' }, { name: 'c', namespace: 'x' }] }, status: ready() });
    assert.deepEqual(r, { dependsOn: ['team/a', 'x/c'], ready: true, state: `Ready at ${REV}` });
    assert.deepEqual(orderRecord({ metadata: { name: 'b', namespace: 'team' }, spec: { dependsOn: 'junk' } }).dependsOn, []);
  });

  const graph = (edges: Record<string, string[]>) => (k: string) => edges[k];
  it('finds a cycle through the start, with its path', () => {
    assert.deepEqual(findCycle('a', graph({ a: ['b'], b: ['a'] })), ['a', 'b', 'a']);
    assert.deepEqual(findCycle('a', graph({ a: ['a'] })), ['a', 'a']);
    assert.deepEqual(findCycle('a', graph({ a: ['x', 'b'], b: ['c'], c: ['a'] })), ['a', 'b', 'c', 'a']);
    assert.equal(findCycle('a', graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] })), undefined, 'a diamond is no cycle');
    assert.equal(findCycle('a', graph({ a: ['b'], b: ['c'], c: ['b'] })), undefined, 'a cycle not through start is the others\' to report');
  });
  it('agrees with a brute-force reachability check on random graphs (property)', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'];
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...nodes), fc.constantFrom(...nodes)), { maxLength: 15 }), (pairs) => {
      const edges: Record<string, string[]> = {};
      for (const [x, y] of pairs) (edges[x] ??= []).push(y);
      // a is on a cycle iff a is reachable from one of its own successors (or itself).
      const reach = new Set<string>();
      const todo = [...(edges.a ?? [])];
      while (todo.length) { const n = todo.pop()!; if (reach.has(n)) continue; reach.add(n); todo.push(...(edges[n] ?? [])); }
      const cycle = findCycle('a', graph(edges));
      assert.equal(cycle !== undefined, reach.has('a'));
      if (cycle) {
        assert.equal(cycle[0], 'a');
        assert.equal(cycle.at(-1), 'a');
        for (let i = 0; i + 1 < cycle.length; i++) assert.ok(edges[cycle[i]!]!.includes(cycle[i + 1]!), 'every step is an edge');
      }
    }), { numRuns: 2000 });
  });
  it('is linear on a long chain and a dense graph', () => {
    const n = 20_000;
    const chain = (k: string) => { const i = Number(k); return i < n ? [String(i + 1)] : []; };
    const t0 = cpuMs();
    assert.equal(findCycle('0', chain), undefined);
    const dense = (k: string) => (Number(k) < 300 ? Array.from({ length: 300 }, (_, i) => String(i)).filter((x) => x !== '0') : []);
    assert.equal(findCycle('0', dense), undefined);
    assert.ok(cpuMs() - t0 < 2000);
  });

  const recs: Record<string, OrderRecord> = {
    'team/a': { dependsOn: [], ready: true, state: 'Ready' },
    'team/slow': { dependsOn: [], ready: false, state: 'Ready=Unknown (Progressing)' },
    'platform/crds': { dependsOn: [], ready: true, state: 'Ready' },
  };
  const self = { namespace: 'team', name: 'b' };
  it('applies only when every dependency is Ready at its latest revision', () => {
    assert.equal(dependencyBlock(self, [], (k) => recs[k]), undefined);
    assert.equal(dependencyBlock(self, [{ namespace: 'team', name: 'a' }, { namespace: 'platform', name: 'crds' }], (k) => recs[k]), undefined);
    assert.deepEqual(dependencyBlock(self, [{ namespace: 'team', name: 'a' }, { namespace: 'team', name: 'slow' }, { namespace: 'other', name: 'gone' }], (k) => recs[k]), {
      message: 'dependency slow is not Ready at its latest revision: Ready=Unknown (Progressing); dependency other/gone not found', cycle: false,
    });
  });
  it('reports a cycle, using the spec just read for its own edges', () => {
    const lookup = (k: string) => (k === 'team/a' ? { dependsOn: ['team/b'], ready: false, state: 'x' } : k === 'team/b' ? { dependsOn: [], ready: false, state: 'stale cache' } : undefined);
    assert.deepEqual(dependencyBlock(self, [{ namespace: 'team', name: 'a' }], lookup), { message: 'dependency cycle: b → a → b; remove one of these dependsOn entries', cycle: true });
    assert.match(dependencyBlock(self, [{ namespace: 'team', name: 'b' }], () => undefined)!.message, /^dependency cycle: b → b/);
  });
});

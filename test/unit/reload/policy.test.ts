import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Candidate, parseBool, parseNameList, parsePolicy, triggerReason, literalNames, hasPatterns, type Problem } from '../../../src/reload/policy.js';

const OFF = { autoReloadAll: false };
const ALL = { autoReloadAll: true };
const cand = (over: Partial<Candidate>): Candidate => ({ kind: 'ConfigMap', name: 'app', referenced: true, annotations: {}, wasTrigger: false, ...over });

describe('parseBool', () => {
  it('accepts what Go\'s strconv.ParseBool accepts', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True', ' true ']) assert.equal(parseBool(t), true, t);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseBool(f), false, f);
    for (const x of ['yes', 'on', '', 'tRuE', '2']) assert.equal(parseBool(x), undefined, x);
  });
});

describe('parseNameList', () => {
  it('trims entries, drops empty ones and anchors each as a regular expression', () => {
    const problems: Problem[] = [];
    const list = parseNameList('k', ' a , ,b-.*,', problems);
    assert.deepEqual(list.map((p) => [p.source, p.literal]), [['a', true], ['b-.*', false]]);
    assert.ok(list[0]!.matches('a'));
    assert.ok(!list[0]!.matches('ab'), 'anchored at the end');
    assert.ok(!list[0]!.matches('xa'), 'anchored at the start');
    assert.ok(list[1]!.matches('b-anything'));
    assert.ok(!list[1]!.matches('xb-'));
    assert.deepEqual(problems, []);
  });

  it('anchors by concatenation, as Reloader does: "a|b" is "^a|b$" (starts with a, or ends with b)', () => {
    const [p] = parseNameList('k', 'a|b', []);
    assert.ok(p!.matches('a') && p!.matches('b'));
    assert.ok(p!.matches('ab') && p!.matches('a-anything') && p!.matches('anything-b'));
    assert.ok(!p!.matches('xa') && !p!.matches('bx'));
    const [g] = parseNameList('k', '(a|b)', []);
    assert.ok(g!.matches('a') && g!.matches('b') && !g!.matches('ab'), 'a group anchors the whole alternation');
  });

  it('reports an invalid regular expression and keeps the others', () => {
    const problems: Problem[] = [];
    const list = parseNameList('keelson.dev/configmaps', 'good,bad(', problems);
    assert.deepEqual(list.map((p) => p.source), ['good']);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.annotation, 'keelson.dev/configmaps');
    assert.equal(problems[0]!.value, 'bad(');
  });

  it('treats names with a dot as plain names (a dot still matches any character, as in Reloader)', () => {
    const [p] = parseNameList('k', 'app.v1', []);
    assert.equal(p!.literal, true);
    assert.ok(p!.matches('app.v1') && p!.matches('appXv1'));
  });
});

describe('parsePolicy', () => {
  it('is inactive without annotations, active under --auto-reload-all', () => {
    assert.equal(parsePolicy({}, {}, OFF).active, false);
    assert.equal(parsePolicy(undefined, undefined, OFF).active, false);
    const p = parsePolicy({}, {}, ALL);
    assert.equal(p.active, true);
    assert.deepEqual(p.auto, { ConfigMap: true, Secret: true });
  });

  it('reads keelson.dev/auto and its Reloader alias; Keelson\'s key wins', () => {
    assert.deepEqual(parsePolicy({ 'keelson.dev/auto': 'true' }, {}, OFF).auto, { ConfigMap: true, Secret: true });
    assert.deepEqual(parsePolicy({ 'reloader.stakater.com/auto': 'true' }, {}, OFF).auto, { ConfigMap: true, Secret: true });
    assert.deepEqual(parsePolicy({ 'keelson.dev/auto': 'false', 'reloader.stakater.com/auto': 'true' }, {}, OFF).auto, { ConfigMap: false, Secret: false });
  });

  it('keelson.dev/auto: "false" opts out under --auto-reload-all', () => {
    const p = parsePolicy({ 'keelson.dev/auto': 'false' }, {}, ALL);
    assert.deepEqual(p.auto, { ConfigMap: false, Secret: false });
    assert.equal(p.active, false);
  });

  it('honours the typed auto keys per kind', () => {
    assert.deepEqual(parsePolicy({ 'configmap.reloader.stakater.com/auto': 'true' }, {}, OFF).auto, { ConfigMap: true, Secret: false });
    assert.deepEqual(parsePolicy({ 'secret.reloader.stakater.com/auto': 'true' }, {}, OFF).auto, { ConfigMap: false, Secret: true });
    // A typed "false" opts that kind out of --auto-reload-all only.
    assert.deepEqual(parsePolicy({ 'secret.reloader.stakater.com/auto': 'false' }, {}, ALL).auto, { ConfigMap: true, Secret: false });
    // A typed "true" wins over a general "false", as in Reloader.
    assert.deepEqual(parsePolicy({ 'keelson.dev/auto': 'false', 'configmap.reloader.stakater.com/auto': 'true' }, {}, OFF).auto, { ConfigMap: true, Secret: false });
  });

  it('reads named lists, excludes and search with their aliases', () => {
    const p = parsePolicy({
      'configmap.reloader.stakater.com/reload': 'a,b',
      'keelson.dev/secrets': 's',
      'secrets.exclude.reloader.stakater.com/reload': 'x',
      'keelson.dev/exclude-configmaps': 'y',
      'reloader.stakater.com/search': 'true',
    }, {}, OFF);
    assert.deepEqual(p.named.ConfigMap.map((n) => n.source), ['a', 'b']);
    assert.deepEqual(p.named.Secret.map((n) => n.source), ['s']);
    assert.deepEqual(p.exclude.Secret.map((n) => n.source), ['x']);
    assert.deepEqual(p.exclude.ConfigMap.map((n) => n.source), ['y']);
    assert.equal(p.search, true);
    assert.equal(p.active, true);
    assert.deepEqual(literalNames(p, 'ConfigMap'), ['a', 'b']);
    assert.equal(hasPatterns(p, 'ConfigMap'), false);
    assert.equal(hasPatterns(parsePolicy({ 'keelson.dev/configmaps': 'a-.*' }, {}, OFF), 'ConfigMap'), true);
  });

  it('falls back to the pod template\'s annotations when the workload has no trigger annotation (as Reloader)', () => {
    assert.equal(parsePolicy({}, { 'reloader.stakater.com/auto': 'true' }, OFF).auto.ConfigMap, true);
    assert.equal(parsePolicy({ 'keelson.dev/configmaps': 'a' }, { 'reloader.stakater.com/auto': 'true' }, OFF).auto.ConfigMap, false);
  });

  it('parses keelson.dev/debounce and reports a bad value, keeping the default', () => {
    assert.equal(parsePolicy({ 'keelson.dev/debounce': '10s' }, {}, OFF).debounceMs, 10_000);
    assert.equal(parsePolicy({ 'keelson.dev/debounce': '0' }, {}, OFF).debounceMs, 0);
    const bad = parsePolicy({ 'keelson.dev/debounce': 'soon' }, {}, OFF);
    assert.equal(bad.debounceMs, undefined);
    assert.equal(bad.problems.length, 1);
    assert.equal(bad.problems[0]!.annotation, 'keelson.dev/debounce');
    assert.match(bad.problems[0]!.expected, /duration/);
  });

  it('reports an unparsable boolean and treats it as unset', () => {
    const p = parsePolicy({ 'keelson.dev/auto': 'yes' }, {}, ALL);
    assert.equal(p.problems[0]!.annotation, 'keelson.dev/auto');
    assert.equal(p.auto.ConfigMap, true, 'unset: --auto-reload-all applies');
  });

  it('changes the selection fingerprint only when named lists change', () => {
    const a = parsePolicy({ 'keelson.dev/configmaps': 'a', 'keelson.dev/debounce': '1s' }, {}, OFF).selection;
    assert.equal(a, parsePolicy({ 'keelson.dev/configmaps': ' a ', 'keelson.dev/auto': 'true' }, {}, OFF).selection);
    assert.notEqual(a, parsePolicy({ 'keelson.dev/configmaps': 'a,b' }, {}, OFF).selection);
    assert.notEqual(a, parsePolicy({ 'keelson.dev/secrets': 'a' }, {}, OFF).selection);
  });
});

describe('triggerReason', () => {
  const auto = parsePolicy({ 'keelson.dev/auto': 'true' }, {}, OFF);
  const named = parsePolicy({ 'keelson.dev/configmaps': 'app,feat-.*', 'keelson.dev/exclude-configmaps': 'feat-off' }, {}, OFF);
  const search = parsePolicy({ 'keelson.dev/search': 'true' }, {}, OFF);

  it('auto: referenced configs only', () => {
    assert.equal(triggerReason(auto, cand({})), 'auto');
    assert.equal(triggerReason(auto, cand({ referenced: false })), undefined);
    assert.equal(triggerReason(auto, cand({ kind: 'Secret' })), 'auto');
    assert.equal(triggerReason(auto, cand({ annotations: undefined })), 'auto', 'a missing referenced config is tracked');
  });

  it('named: referenced or not, regex, excludes win', () => {
    assert.equal(triggerReason(named, cand({ referenced: false })), 'named');
    assert.equal(triggerReason(named, cand({ name: 'feat-x', referenced: false })), 'named');
    assert.equal(triggerReason(named, cand({ name: 'feat-off' })), undefined);
    assert.equal(triggerReason(named, cand({ name: 'other' })), undefined, 'referenced but not named and no auto');
    assert.equal(triggerReason(named, cand({ kind: 'Secret' })), undefined, 'lists are per kind');
  });

  it('named wins over search and auto as the reported reason', () => {
    const both = parsePolicy({ 'keelson.dev/configmaps': 'app', 'keelson.dev/auto': 'true', 'keelson.dev/search': 'true' }, {}, OFF);
    assert.equal(triggerReason(both, cand({ annotations: { 'keelson.dev/match': 'true' } })), 'named');
    assert.equal(triggerReason(both, cand({ name: 'other', annotations: { 'keelson.dev/match': 'true' } })), 'search');
    assert.equal(triggerReason(both, cand({ name: 'other' })), 'auto');
  });

  it('search: referenced configs with the match annotation (either alias)', () => {
    assert.equal(triggerReason(search, cand({ annotations: { 'keelson.dev/match': 'true' } })), 'search');
    assert.equal(triggerReason(search, cand({ annotations: { 'reloader.stakater.com/match': 'true' } })), 'search');
    assert.equal(triggerReason(search, cand({ annotations: {} })), undefined);
    assert.equal(triggerReason(search, cand({ annotations: { 'keelson.dev/match': 'true' }, referenced: false })), undefined);
    assert.equal(triggerReason(search, cand({ annotations: undefined, wasTrigger: true })), 'search', 'a deleted matched config stays a trigger');
    assert.equal(triggerReason(search, cand({ annotations: undefined, wasTrigger: false })), undefined);
  });

  it('ignore on the config never triggers, whatever the workload says', () => {
    for (const key of ['keelson.dev/ignore', 'reloader.stakater.com/ignore']) {
      assert.equal(triggerReason(auto, cand({ annotations: { [key]: 'true' } })), undefined);
      assert.equal(triggerReason(named, cand({ annotations: { [key]: 'true' } })), undefined);
    }
    assert.equal(triggerReason(auto, cand({ annotations: { 'keelson.dev/ignore': 'false' } })), 'auto');
  });

  it('excludes apply to auto too', () => {
    const p = parsePolicy({ 'keelson.dev/auto': 'true', 'keelson.dev/exclude-secrets': 'tls-.*' }, {}, OFF);
    assert.equal(triggerReason(p, cand({ kind: 'Secret', name: 'tls-web' })), undefined);
    assert.equal(triggerReason(p, cand({ kind: 'ConfigMap', name: 'tls-web' })), 'auto');
  });
});

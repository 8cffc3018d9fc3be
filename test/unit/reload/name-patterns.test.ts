// Name lists with RE2 semantics and Reloader's anchoring ("^" + entry + "$", Go regexp), the caps, and property tests
// that any annotation string compiles without throwing and matches in bounded (linear) time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_ENTRIES, MAX_PATTERN_LENGTH, compileEntry, compileNameList } from '../../../src/reload/name-patterns.js';
import { parsePolicy } from '../../../src/reload/policy.js';
import { cpuMs } from '../../support/props.js';

const matcher = (entry: string) => {
  const r = compileEntry(entry);
  assert.ok('matches' in r, `${entry}: ${'reason' in r ? r.reason : ''}`);
  return r;
};

/**
 * [entry, names it matches, names it does not]: what Go's regexp.MustCompile("^" + entry + "$").MatchString(name)
 * answers (Reloader), where a JavaScript RegExp would answer differently or hang.
 */
const TABLE: [string, string[], string[]][] = [
  ['app', ['app'], ['app2', 'xapp', 'ap']],
  ['feature-.*', ['feature-', 'feature-a.b'], ['features', 'x-feature-a']],
  ['app.v1', ['app.v1', 'appXv1'], ['app.v10']],
  // Concatenated anchors: "^a|b$" is "starts with a, or ends with b" in Go, not "a or b".
  ['a|b', ['a', 'b', 'ab', 'a-x', 'x-b'], ['x', 'xa', 'bx']],
  ['(a|b)', ['a', 'b'], ['ab', 'a-x']],
  ['web|api-.*', ['web', 'web-x', 'api-1', 'x-api-2'], ['x-web', 'api']],
  // RE2 syntax JavaScript does not have (or reads differently).
  ['(?i)APP', ['app', 'App'], ['apps']],
  ['[[:digit:]]+', ['123'], ['12a']],
  ['\\Qa.b\\E', ['a.b'], ['aXb']],
  ['cfg-\\d{2}', ['cfg-01'], ['cfg-1', 'cfg-001']],
  ['(?P<n>x)y', ['xy'], ['x']],
  ['.*-config$', ['a-config'], ['a-configs']],
  // Exponential for a backtracking engine; linear here.
  ['(a|a)*b', ['aab', 'b'], ['a'.repeat(40), 'a'.repeat(253)]],
  ['(a*)*c', ['aac'], ['a'.repeat(200)]],
];

describe('name patterns: RE2 semantics with Reloader\'s anchoring', () => {
  for (const [entry, yes, no] of TABLE) {
    it(`${entry}`, () => {
      const m = matcher(entry);
      for (const n of yes) assert.equal(m.matches(n), true, `${entry} should match ${n}`);
      for (const n of no) assert.equal(m.matches(n), false, `${entry} should not match ${n}`);
    });
  }

  it('rejects what RE2 rejects (lookaround, backreferences, huge repeats), with a reason', () => {
    for (const entry of ['(?<=x)a', '(?=x)a', '(?!x)a', '\\1', '(a)\\1', 'a{1001}', 'x**', 'bad(', '[z-a]']) {
      const r = compileEntry(entry);
      assert.ok(!('matches' in r), `${entry} must be rejected`);
      assert.ok(r.reason.length > 0 && r.reason.length <= 120);
    }
  });

  it('caps the length of an entry and the program it expands to', () => {
    assert.ok('matches' in compileEntry('a'.repeat(MAX_PATTERN_LENGTH)));
    const long = compileEntry('a'.repeat(MAX_PATTERN_LENGTH + 1));
    assert.ok(!('matches' in long) && /longer than 253/.test(long.reason));
    assert.ok(long.entry.length < 50, 'a long entry is not echoed whole into events');
    const big = compileEntry('[a-z]{999}');
    assert.ok(!('matches' in big) && /too complex/.test(big.reason));
  });

  it('uses the first 64 entries and says how many more were ignored; one bad entry leaves the others working', () => {
    const names = Array.from({ length: MAX_ENTRIES + 3 }, (_, i) => `n${i}`);
    const list = compileNameList(names.join(','));
    assert.equal(list.patterns.length, MAX_ENTRIES);
    assert.deepEqual(list.rejected.map((r) => r.entry), ['3 more']);
    const mixed = compileNameList('good, (?<=x)y ,feature-.*');
    assert.deepEqual(mixed.patterns.map((p) => p.source), ['good', 'feature-.*']);
    assert.deepEqual(mixed.rejected.map((r) => r.entry), ['(?<=x)y']);
  });

  it('bounds the program size of a whole list', () => {
    const list = compileNameList(Array.from({ length: 10 }, (_, i) => `[a-z]{${300 + i}}`).join(','));
    assert.ok(list.patterns.reduce((s, p) => s + p.size, 0) <= 2000);
    assert.ok(list.rejected.some((r) => /list is too complex/.test(r.reason)));
  });

  it('compiles a value once (the same object comes back)', () => {
    assert.equal(compileNameList('a,b-.*'), compileNameList('a,b-.*'));
  });

  it('the issue\'s ReDoS annotation against a name of 40 a\'s answers at once', () => {
    const p = parsePolicy({ 'keelson.dev/configmaps': '(a|a)*b' }, {}, { autoReloadAll: false });
    const started = cpuMs();
    assert.equal(p.named.ConfigMap[0]!.matches('a'.repeat(40)), false);
    assert.ok(cpuMs() - started < 1000, 'generous bound: a backtracking engine takes hours');
  });
});

/** Characters that make regular expressions expensive or invalid, plus plain name characters. */
const REGEX_CHARS = fc.constantFrom(...'()|*+?{}[]\\.,^$-:=<!Pp1a0bz '.split(''), '{1000}', '{99}', '(?<=', '(?i)', '\\1', 'a*', '(a|a)');
const annotation = fc.oneof(
  fc.string({ maxLength: 600 }),
  fc.array(REGEX_CHARS, { maxLength: 300 }).map((a) => a.join('')),
  fc.array(fc.array(REGEX_CHARS, { maxLength: 40 }).map((a) => a.join('')), { maxLength: 80 }).map((a) => a.join(',')),
);
const NAMES = ['a'.repeat(40), 'a'.repeat(253), `${'ab'.repeat(126)}!`, 'app', 'feature-x.y', ''];

describe('name patterns: properties', () => {
  it('any annotation string compiles without throwing, and every match is bounded in time', () => {
    fc.assert(fc.property(annotation, (value) => {
      const started = cpuMs();
      const list = compileNameList(value);
      for (const p of list.patterns) for (const n of NAMES) assert.equal(typeof p.matches(n), 'boolean');
      const ms = cpuMs() - started;
      // Generous: compile + 6 names × up to 64 entries. A backtracking engine needs hours on some of these.
      assert.ok(ms < 500, `${ms.toFixed(0)} ms for a value of ${value.length} characters`);
      assert.ok(list.patterns.length <= MAX_ENTRIES);
      for (const r of list.rejected) assert.ok(r.entry.length <= MAX_PATTERN_LENGTH + 1 || r.entry.length < 50);
    }), { numRuns: 300 });
  });

  it('parsePolicy never throws on arbitrary annotations, and every problem names its annotation', () => {
    const keys = fc.constantFrom('keelson.dev/configmaps', 'keelson.dev/secrets', 'keelson.dev/exclude-configmaps', 'secret.reloader.stakater.com/reload', 'keelson.dev/auto', 'keelson.dev/debounce');
    fc.assert(fc.property(fc.dictionary(keys, annotation, { maxKeys: 4 }), (a) => {
      const p = parsePolicy(a, {}, { autoReloadAll: false });
      for (const pr of p.problems) assert.ok(pr.annotation in a);
    }), { numRuns: 200 });
  });

  it('matching time grows linearly with the name, not exponentially', () => {
    const m = matcher('(a|aa)*(a|a)*b');
    const time = (n: number) => { const s = 'a'.repeat(n); const t = cpuMs(); for (let i = 0; i < 20; i++) m.matches(`${s}${i}`); return cpuMs() - t; };
    time(50);
    assert.ok(time(250) < 2000, 'generous absolute bound');
  });
});

// Property tests for durations (flags, annotations, GitSync fields) and semver (a GitSync's spec.ref.semver against
// a Git server's tag names): total functions or the module's own error, round-trips, order laws, linear time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';
import { type SemVer, RangeError as SemverRangeError, compareVersions, maxSatisfying, parseRange, parseVersion, satisfies } from '../../../src/gitsync/semver.js';
import { KiB, MiB, anyText, assertFast, grammar, onlyThrows, repeated } from '../../support/props.js';

const DURATION = ['0', '1', '9', '.', '.5', 'ms', 's', 'm', 'h', 'd', ' ', '-', '+', 'e3', '1s', '10m'];

describe('durations (properties)', () => {
  it('any text is a whole, finite, non-negative number of ms or undefined; never throws', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(DURATION)), (text) => {
      const ms = parseDuration(text);
      if (ms !== undefined) assert.ok(Number.isInteger(ms) && ms >= 0, `${JSON.stringify(text)} → ${ms}`);
    }), { numRuns: 3000 });
  });

  it('round-trips formatDuration', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 13 }), (ms) => assert.equal(parseDuration(formatDuration(ms)), ms)));
  });

  it('is additive over concatenated parts', () => {
    const part = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('ms', 's', 'm', 'h')).map(([n, u]) => `${n}${u}`);
    fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
      assert.equal(parseDuration(parts.join('')), parts.reduce((sum, p) => sum + parseDuration(p)!, 0));
    }));
  });

  it('adversarial 64 KiB–1 MiB inputs finish well under a second', () => {
    for (const size of [64 * KiB, MiB]) {
      for (const [name, text] of [['digits', repeated('1', size, '', 'x')], ['fractions', repeated('1.', size)], ['parts', repeated('1s', size, '', 'x')],
        ['dots', repeated('1.1', size, '', 's!')], ['spaces', repeated(' ', size, '1', 's')]] as const) {
        assertFast(`duration ${name} ${size}`, 1000, () => parseDuration(text));
      }
    }
  });
});

const num = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.nat());
const ident = fc.oneof(fc.nat({ max: 30 }), fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/).filter((s) => !/^\d+$/.test(s)));
const version = fc.record({ major: num, minor: num, patch: num, prerelease: fc.array(ident, { maxLength: 3 }) });
const formatVersion = (v: SemVer) => `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`;
const RANGE = ['1', '2', '0', '.', 'x', '*', 'X', '^', '~', '~>', '>', '<', '=', '>=', '<=', ' ', '  ', '||', ' - ', '-', 'rc', '+', 'v', 'b'];

describe('semver (properties)', () => {
  it('parseVersion: any text is a version or undefined; never throws', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(RANGE)), (text) => { parseVersion(text); }), { numRuns: 3000 });
  });

  it('round-trips versions, with a v prefix and build metadata ignored', () => {
    fc.assert(fc.property(version, fc.boolean(), fc.option(fc.stringMatching(/^[0-9A-Za-z-]{1,6}$/)), (v, prefix, build) => {
      const text = `${prefix ? 'v' : ''}${formatVersion(v)}${build ? `+${build}` : ''}`;
      const parsed = parseVersion(text);
      assert.ok(parsed, text);
      assert.equal(compareVersions(parsed, v), 0);
      assert.equal(formatVersion(parsed), formatVersion(v));
    }));
  });

  it('compareVersions is a total order (reflexive, antisymmetric, transitive)', () => {
    fc.assert(fc.property(version, version, version, (a, b, c) => {
      assert.equal(compareVersions(a, a), 0);
      assert.equal(Math.sign(compareVersions(a, b)), -Math.sign(compareVersions(b, a)));
      if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) assert.ok(compareVersions(a, c) <= 0);
    }));
  });

  it('parseRange: any text is a range or a SemverRangeError; satisfies and maxSatisfying never throw otherwise', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(RANGE)), fc.array(fc.oneof(anyText(20), version.map(formatVersion)), { maxLength: 5 }), (text, names) => {
      const range = onlyThrows(() => parseRange(text), SemverRangeError);
      if (range) for (const n of names) { const v = parseVersion(n); if (v) satisfies(v, range); }
      onlyThrows(() => maxSatisfying(names, text), SemverRangeError);
    }), { numRuns: 3000 });
  });

  it('a version satisfies its exact range, its caret and tilde ranges, and >= itself', () => {
    fc.assert(fc.property(version, (v) => {
      const text = formatVersion(v);
      for (const r of [text, `=${text}`, `^${text}`, `~${text}`, `>=${text}`, `<=${text}`, `${text} - ${text}`]) assert.ok(satisfies(v, parseRange(r)), `${text} in ${r}`);
      assert.ok(!satisfies(v, parseRange(`>${text}`)));
      assert.ok(!satisfies(v, parseRange(`<${text}`)));
    }));
  });

  it('maxSatisfying picks a satisfying name no lower than any other satisfying name', () => {
    fc.assert(fc.property(fc.array(version.map(formatVersion), { maxLength: 10 }), fc.constantFrom('*', '>=1.0.0', '^1', '~0.2', '<3', '1.x || >=5'), (names, range) => {
      const best = maxSatisfying(names, range);
      const r = parseRange(range);
      const ok = names.filter((n) => satisfies(parseVersion(n)!, r));
      assert.equal(best === undefined, ok.length === 0);
      if (best) for (const n of ok) assert.ok(compareVersions(parseVersion(n)!, parseVersion(best)!) <= 0);
    }));
  });

  it('adversarial 64 KiB–1 MiB versions, ranges and tag lists finish well under a second', () => {
    // 1,000 characters: just under parseRange's cap, so node-semver's own parsing is what is timed.
    for (const size of [1000, 64 * KiB, MiB]) {
      for (const [name, text] of [
        ['prerelease dots', repeated('a.', size, '1.2.3-', '!')], ['prerelease dashes', repeated('-', size, '1.2.3-', '!')],
        ['digits', repeated('1', size, '', '.')], ['operators', repeated('>= ', size)], ['hyphens', repeated('1 - ', size)],
        ['ors', repeated('||', size)], ['spaces', repeated(' ', size, '>=', '1')], ['build', repeated('a.', size, '1.2.3+', '!')],
      ] as const) {
        assertFast(`semver ${name} ${size}`, 1000, () => parseVersion(text));
        assertFast(`range ${name} ${size}`, 1000, () => parseRange(text));
      }
    }
    const tags = Array.from({ length: 20_000 }, (_, i) => `v${i % 50}.${i % 7}.${i}-rc.${i}`);
    assertFast('maxSatisfying 20k tags', 1000, () => maxSatisfying(tags, '>=1.0.0-rc.0 <40.0.0 || ^45'));
  });
});

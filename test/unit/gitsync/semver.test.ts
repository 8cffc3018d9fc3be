import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, maxSatisfying, parseRange, parseVersion, satisfies } from '../../../src/gitsync/semver.js';

const sat = (v: string, r: string) => satisfies(parseVersion(v)!, parseRange(r));

describe('semver: versions', () => {
  it('parses plain, v-prefixed, prerelease and build versions', () => {
    assert.deepEqual(parseVersion('1.2.3'), { major: 1, minor: 2, patch: 3, prerelease: [] });
    assert.deepEqual(parseVersion('v10.0.1'), { major: 10, minor: 0, patch: 1, prerelease: [] });
    assert.deepEqual(parseVersion('1.0.0-rc.1+build.5'), { major: 1, minor: 0, patch: 0, prerelease: ['rc', 1] });
  });
  it('rejects what is not a version', () => {
    for (const t of ['1.2', 'latest', '01.2.3', '1.2.3.4', 'v', '', 'release-1.0.0']) assert.equal(parseVersion(t), undefined, t);
  });
  it('orders as SemVer 2.0 says', () => {
    const order = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0'];
    for (let i = 0; i + 1 < order.length; i++) {
      assert.equal(compareVersions(parseVersion(order[i]!)!, parseVersion(order[i + 1]!)!), -1, `${order[i]} < ${order[i + 1]}`);
      assert.equal(compareVersions(parseVersion(order[i + 1]!)!, parseVersion(order[i]!)!), 1);
    }
    assert.equal(compareVersions(parseVersion('1.0.0+a')!, parseVersion('v1.0.0+b')!), 0);
  });
});

describe('semver: ranges', () => {
  const cases: [string, string[], string[]][] = [
    ['>=1.0.0 <2.0.0', ['1.0.0', '1.9.9', 'v1.5.0'], ['0.9.9', '2.0.0', '2.0.0-rc.1', '1.5.0-rc.1']],
    ['1.2.3', ['1.2.3', 'v1.2.3'], ['1.2.4', '1.2.3-rc.1']],
    ['=1.2.3', ['1.2.3'], ['1.2.2']],
    ['^1.2.3', ['1.2.3', '1.9.0'], ['2.0.0', '1.2.2']],
    ['^0.2.3', ['0.2.3', '0.2.9'], ['0.3.0']],
    ['^0.0.3', ['0.0.3'], ['0.0.4']],
    ['^1.2', ['1.2.0', '1.99.0'], ['2.0.0', '1.1.9']],
    ['~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0']],
    ['~1.2', ['1.2.0', '1.2.9'], ['1.3.0']],
    ['~1', ['1.0.0', '1.9.9'], ['2.0.0']],
    ['1.x', ['1.0.0', '1.9.9'], ['2.0.0', '0.9.0']],
    ['1.2.*', ['1.2.0', '1.2.7'], ['1.3.0']],
    ['*', ['0.0.1', '9.9.9'], ['1.0.0-rc.1']],
    ['>1.2', ['1.3.0'], ['1.2.9']],
    ['<=1.2', ['1.2.9', '1.0.0'], ['1.3.0']],
    ['<1.2', ['1.1.9'], ['1.2.0']],
    ['1.0.0 - 1.5.0', ['1.0.0', '1.5.0'], ['1.5.1', '0.9.0']],
    ['<1.0.0 || >=3.0.0', ['0.5.0', '3.1.0'], ['1.0.0', '2.9.9']],
    ['>= 1.0.0 < 2.0.0', ['1.0.0'], ['2.0.0']],
    ['>=1.0.0-rc.1 <2.0.0', ['1.0.0-rc.1', '1.0.0-rc.2', '1.2.0'], ['1.1.0-rc.1', '1.0.0-beta']],
  ];
  for (const [range, yes, no] of cases) {
    it(`"${range}"`, () => {
      for (const v of yes) assert.ok(sat(v, range), `${v} should satisfy ${range}`);
      for (const v of no) assert.ok(!sat(v, range), `${v} should not satisfy ${range}`);
    });
  }
  it('rejects malformed ranges with a message naming them', () => {
    for (const r of ['', '>=abc', '1.2.3.4', '>=1.0.0 <two']) assert.throws(() => parseRange(r), /invalid semver range/, r);
  });
  it('maxSatisfying picks the highest matching tag and ignores non-version tags', () => {
    const tags = ['v1.0.0', 'v1.2.0', 'v1.10.0', 'v2.0.0-rc.1', 'v2.0.0', 'latest', 'release-3'];
    assert.equal(maxSatisfying(tags, '>=1.0.0 <2.0.0'), 'v1.10.0');
    assert.equal(maxSatisfying(tags, '*'), 'v2.0.0');
    assert.equal(maxSatisfying(tags, '>=3.0.0'), undefined);
    assert.equal(maxSatisfying(['1.0.0', 'v1.0.1'], '~1.0.0'), 'v1.0.1');
  });
});

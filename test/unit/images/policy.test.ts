// Tag selection of ImagePolicy (semver / alphabetical / numerical, filterTags with Flux's extraction), spec
// validation, and dockerconfigjson credentials: examples, then order-independence and hostile-input properties.

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CredentialsError, caBundleOf, credentialsFor } from '../../../src/images/credentials.js';
import { PolicyError, compileFilter, compilePolicy, expandTemplate, parseNumber, selectTag, selectTagInBatches } from '../../../src/images/policy.js';
import { parseImageRepository } from '../../../src/images/reference.js';
import { DEFAULT_INTERVAL_MS, scanSpecOf } from '../../../src/images/spec.js';
import { MiB, anyText, assertFast, grammar, onlyThrows, repeated } from '../../support/props.js';

const pick = (policy: unknown, tags: string[], filterTags?: unknown) => selectTag(compilePolicy(policy, filterTags), tags);
const TAGS = ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0', 'latest', 'v1.0.5', 'main-abc1234-1700000000', 'main-def5678-1700000100'];

describe('tag policies', () => {
  it('semver picks the highest tag in range; prereleases only when the range asks for them', () => {
    assert.equal(pick({ semver: { range: '>=1.0.0 <2.0.0' } }, TAGS), '1.1.0');
    assert.equal(pick({ semver: { range: '>=1.0.0' } }, TAGS), '2.0.0');
    assert.equal(pick({ semver: { range: '>=2.0.0-rc.0 <2.0.0' } }, TAGS), '2.0.0-rc.1');
    assert.equal(pick({ semver: { range: '~1.0' } }, TAGS), 'v1.0.5');
    assert.equal(pick({ semver: { range: '>=3' } }, TAGS), undefined);
  });

  it('alphabetical and numerical, asc (the highest) and desc (the lowest)', () => {
    assert.equal(pick({ alphabetical: {} }, ['a', 'b', 'B', 'aa']), 'b');
    assert.equal(pick({ alphabetical: { order: 'desc' } }, ['a', 'b', 'B', 'aa']), 'B');
    assert.equal(pick({ numerical: { order: 'asc' } }, ['9', '10', '1.5', 'x', '-3']), '10');
    assert.equal(pick({ numerical: { order: 'desc' } }, ['9', '10', '1.5', 'x', '-3']), '-3');
  });

  it('filterTags keeps matching tags and orders by the extraction ($name, ${name}, $1), returning the original tag', () => {
    const filter = { pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts' };
    assert.equal(pick({ numerical: { order: 'asc' } }, TAGS, filter), 'main-def5678-1700000100');
    assert.equal(pick({ numerical: { order: 'desc' } }, TAGS, filter), 'main-abc1234-1700000000');
    assert.equal(pick({ semver: { range: '>=1.0.0' } }, ['app-1.2.0', 'app-1.10.0', 'other-9.0.0'], { pattern: '^app-(.+)$', extract: '$1' }), 'app-1.10.0');
    assert.equal(pick({ alphabetical: {} }, ['rc-a', 'rc-b', 'zzz'], { pattern: 'rc-' }), 'rc-b');
  });

  it('expandTemplate follows Go\'s Regexp.Expand', () => {
    const g = (n: string) => ({ 1: 'one', ts: 'TS', x: 'X' } as Record<string, string>)[n];
    assert.equal(expandTemplate('$ts', g), 'TS');
    assert.equal(expandTemplate('${ts}-$1', g), 'TS-one');
    assert.equal(expandTemplate('$1x', g), ''); // the name is "1x"
    assert.equal(expandTemplate('${1}x', g), 'onex');
    assert.equal(expandTemplate('$$ts $', g), '$ts $');
    assert.equal(expandTemplate('${bad-name}', g), '${bad-name}');
    assert.equal(expandTemplate('${', g), '${');
  });

  it('the choice does not depend on listing order, and is one of the tags', () => {
    const tag = fc.oneof(
      fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.constantFrom('', '-rc.1', '-alpha')).map(([a, b, c, p]) => `${fc.sample(fc.constantFrom('', 'v'), 1)[0]}${a}.${b}.${c}${p}`),
      fc.stringMatching(/^[a-z0-9.]{1,6}$/),
    );
    const policy = fc.constantFrom<unknown>({ semver: { range: '>=1.0.0' } }, { semver: { range: '<2.0.0-0' } }, { alphabetical: { order: 'asc' } }, { alphabetical: { order: 'desc' } }, { numerical: { order: 'asc' } }, { numerical: { order: 'desc' } });
    fc.assert(fc.property(policy, fc.array(tag, { maxLength: 30 }), fc.integer(), (p, tags, seed) => {
      const shuffled = [...tags].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7)).reverse();
      const a = pick(p, tags);
      assert.equal(pick(p, shuffled), a);
      if (a !== undefined) assert.ok(tags.includes(a));
    }), { numRuns: 2000 });
  });

  it('batched selection (yielding between batches) picks the same tag', async () => {
    const tag = fc.oneof(fc.stringMatching(/^v?[0-9]{1,2}\.[0-9]\.[0-9](-rc\.[0-9])?$/), fc.stringMatching(/^[a-z0-9.]{1,5}$/));
    const policy = fc.constantFrom<unknown>({ semver: { range: '>=1.0.0' } }, { alphabetical: { order: 'desc' } }, { numerical: { order: 'asc' } });
    await fc.assert(fc.asyncProperty(policy, fc.array(tag, { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), async (p, tags, batch) => {
      const c = compilePolicy(p, undefined);
      assert.equal(await selectTagInBatches(c, tags, batch, async () => {}), selectTag(c, tags));
    }), { numRuns: 1000 });
  });

  it('parseNumber accepts decimal numbers only', () => {
    for (const [t, v] of [['10', 10], ['-1.5', -1.5], ['+2', 2], ['.5', 0.5], ['007', 7]] as const) assert.equal(parseNumber(t), v);
    for (const t of ['', '1e3', '0x10', '1.2.3', 'NaN', 'Infinity', '-', '.', ' 1']) assert.equal(parseNumber(t), undefined, t);
  });
});

describe('policy validation', () => {
  it('names the field to fix', () => {
    const bad: [unknown, unknown, string][] = [
      [undefined, undefined, 'spec.policy is required'],
      [{}, undefined, 'exactly one'],
      [{ semver: { range: '>=1' }, alphabetical: {} }, undefined, 'exactly one'],
      [{ semver: {} }, undefined, 'spec.policy.semver.range is required'],
      [{ semver: { range: 'not a range!' } }, undefined, 'is not a semver range'],
      [{ semver: { range: '1'.repeat(300) } }, undefined, 'longer than'],
      [{ alphabetical: { order: 'up' } }, undefined, 'spec.policy.alphabetical.order must be asc or desc'],
      [{ numerical: {} }, { pattern: '(' }, 'spec.filterTags.pattern is not an RE2 expression'],
      [{ numerical: {} }, { pattern: '(?=x)' }, 'not an RE2 expression'],
      [{ numerical: {} }, { pattern: '((a{100}){100}){100}' }, 'RE2'],
      [{ numerical: {} }, { pattern: 'a{1000}b{1000}' }, 'too complex'],
      [{ numerical: {} }, { pattern: 1 }, 'must be strings'],
    ];
    for (const [policy, filter, text] of bad) {
      assert.throws(() => compilePolicy(policy, filter), (e: Error) => e instanceof PolicyError && e.message.includes(text), `${JSON.stringify(policy)} ${JSON.stringify(filter)}`);
    }
  });

  it('scanSpecOf: defaults, interval bounds, secretRef', () => {
    const s = scanSpecOf({ image: 'nginx', policy: { semver: { range: '^1' } } });
    assert.equal(s.ref.canonical, 'docker.io/library/nginx');
    assert.equal(s.intervalMs, DEFAULT_INTERVAL_MS);
    assert.equal(s.insecure, false);
    assert.equal(scanSpecOf({ image: 'a', interval: '1m', secretRef: { name: 'regcred' }, policy: { alphabetical: {} } }).secretName, 'regcred');
    assert.throws(() => scanSpecOf({ image: 'a', interval: '1s', policy: { alphabetical: {} } }), /spec.interval/);
    assert.throws(() => scanSpecOf({ image: 'a', secretRef: {}, policy: { alphabetical: {} } }), /spec.secretRef.name/);
    assert.throws(() => scanSpecOf({ policy: { alphabetical: {} } }), /spec.image is required/);
  });

  it('scanSpecOf: spec.serviceAccountName, whose rights read spec.secretRef', () => {
    assert.equal(scanSpecOf({ image: 'a', policy: { alphabetical: {} } }).serviceAccountName, undefined);
    assert.equal(scanSpecOf({ image: 'a', serviceAccountName: '', policy: { alphabetical: {} } }).serviceAccountName, undefined);
    assert.equal(scanSpecOf({ image: 'a', serviceAccountName: 'registry-reader', policy: { alphabetical: {} } }).serviceAccountName, 'registry-reader');
    for (const bad of ['Upper', '-x', 'a/b', 'x'.repeat(300), 7]) {
      assert.throws(() => scanSpecOf({ image: 'a', serviceAccountName: bad, policy: { alphabetical: {} } }), /spec.serviceAccountName/);
    }
  });

  it('any filter pattern compiles or throws PolicyError; matching a long tag stays fast', () => {
    const pieces = ['(', ')', '?P<n>', '*', '+', '?', '{2}', '{1000}', '[a-z]', '.', '|', '\\d', '^', '$', 'a', '\\', '(?i)', '(?=', '\\1'];
    fc.assert(fc.property(fc.oneof(anyText(60), grammar(pieces, 30)), anyText(20), (pattern, extract) => {
      const f = onlyThrows(() => compileFilter({ pattern, extract }), PolicyError);
      if (f) f.apply('abc-123');
    }), { numRuns: 3000 });
    const f = compileFilter({ pattern: '^(a+)+$', extract: '$1' })!;
    assertFast('RE2 against a nested quantifier', 500, () => f.apply(repeated('a', 128, '', 'b')));
    assertFast('template', 500, () => expandTemplate(repeated('${', MiB), () => 'x'));
    assertFast('template', 500, () => expandTemplate(repeated('$a', MiB), () => 'x'));
  });
});

describe('dockerconfigjson credentials', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (auths: unknown, extra: Record<string, string> = {}) => ({ '.dockerconfigjson': b64(JSON.stringify({ auths })), ...extra });
  const ghcr = parseImageRepository('ghcr.io/org/app');
  const hub = parseImageRepository('nginx');

  it('finds username/password or auth for the image\'s registry, whatever spelling of the key', () => {
    assert.deepEqual(credentialsFor('ns/s', 'kubernetes.io/dockerconfigjson', secret({ 'https://ghcr.io': { username: 'u', password: 'p:w' } }), ghcr), { username: 'u', password: 'p:w' });
    assert.deepEqual(credentialsFor('ns/s', 'kubernetes.io/dockerconfigjson', secret({ 'https://index.docker.io/v1/': { auth: b64('me:se:cret') } }), hub), { username: 'me', password: 'se:cret' });
    assert.equal(credentialsFor('ns/s', 'kubernetes.io/dockerconfigjson', secret({ 'quay.io': { username: 'u', password: 'p' } }), ghcr), undefined);
  });

  it('credentials keyed for another registry are never used for this one', () => {
    const evil = parseImageRepository('evil.example.com/app');
    assert.equal(credentialsFor('ns/s', 'kubernetes.io/dockerconfigjson', secret({ 'ghcr.io': { username: 'u', password: 'p' }, 'https://index.docker.io/v1/': { auth: b64('a:b') } }), evil), undefined);
  });

  it('malformed Secrets give a CredentialsError that holds no value', () => {
    const bad: [string | undefined, Record<string, string>][] = [
      ['Opaque', secret({})],
      ['kubernetes.io/dockerconfigjson', { '.dockerconfigjson': b64('{not json SECRETVALUE') }],
      ['kubernetes.io/dockerconfigjson', secret('SECRETVALUE')],
      ['kubernetes.io/dockerconfigjson', secret({ 'ghcr.io': { auth: b64('SECRETVALUE') } })],
      ['kubernetes.io/dockerconfigjson', secret({ 'ghcr.io': { token: 'SECRETVALUE' } })],
    ];
    for (const [type, data] of bad) {
      assert.throws(() => credentialsFor('ns/s', type, data, ghcr), (e: Error) => e instanceof CredentialsError && e.message.includes('ns/s') && !e.message.includes('SECRETVALUE'));
    }
  });

  it('any Secret content gives credentials, undefined, or a CredentialsError', () => {
    fc.assert(fc.property(fc.oneof(anyText(), fc.json().map(b64), fc.json().map((j) => b64(`{"auths":{"ghcr.io":${j}}}`))), (raw) => {
      onlyThrows(() => credentialsFor('ns/s', 'kubernetes.io/dockerconfigjson', { '.dockerconfigjson': raw }, ghcr), CredentialsError);
    }), { numRuns: 2000 });
  });

  it('reads a CA bundle from ca.crt', () => {
    assert.equal(caBundleOf({ 'ca.crt': b64('PEM') }), 'PEM');
    assert.equal(caBundleOf({}), undefined);
  });
});

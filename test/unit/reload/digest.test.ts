import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentDigest, reloaderStyleEncoding, workloadDigest } from '../../../src/reload/digest.js';

describe('contentDigest', () => {
  it('is a hex SHA-256, stable across calls, independent of key order', () => {
    const a = contentDigest({ x: '1', y: '2' }, { b: 'AA==' });
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(a, contentDigest({ y: '2', x: '1' }, { b: 'AA==' }));
  });

  it('changes with any value or key', () => {
    const base = contentDigest({ k: 'v' }, undefined);
    assert.notEqual(base, contentDigest({ k: 'w' }, undefined));
    assert.notEqual(base, contentDigest({ K: 'v' }, undefined));
    assert.notEqual(base, contentDigest({ k: 'v', l: '' }, undefined));
  });

  it('treats absent and empty maps alike (the API omits empty maps)', () => {
    assert.equal(contentDigest(undefined, undefined), contentDigest({}, {}));
  });

  it('keeps data and binaryData apart', () => {
    assert.notEqual(contentDigest({ k: 'AA==' }, undefined), contentDigest(undefined, { k: 'AA==' }));
    assert.notEqual(contentDigest({ a: '1' }, { b: '2' }), contentDigest({ b: '2' }, { a: '1' }));
  });

  it('has none of the ambiguities of Reloader\'s "k=v;" encoding', () => {
    // Reloader joins "k=v;" pairs: these different maps encode to the same text, so they share a hash there.
    const pairs: [Record<string, string>, Record<string, string>][] = [
      [{ a: 'b;c=d' }, { a: 'b', c: 'd' }],
      [{ 'a=b': 'c' }, { a: 'b=c' }],
      [{ a: '=' }, { 'a=': '' }],
    ];
    for (const [x, y] of pairs) {
      assert.equal(reloaderStyleEncoding(x), reloaderStyleEncoding(y), 'the old encoding collides');
      assert.notEqual(contentDigest(x, undefined), contentDigest(y, undefined), `canonical encoding separates ${JSON.stringify(x)} and ${JSON.stringify(y)}`);
    }
  });

  it('handles quotes, newlines and unicode in keys and values unambiguously', () => {
    assert.notEqual(contentDigest({ 'a"': 'b' }, undefined), contentDigest({ a: '"b' }, undefined));
    assert.notEqual(contentDigest({ a: 'x\ny' }, undefined), contentDigest({ a: 'x\\ny' }, undefined));
    assert.equal(contentDigest({ 'ü': '😀' }, undefined), contentDigest({ 'ü': '😀' }, undefined));
  });

  it('sorts by code point, not locale', () => {
    assert.equal(contentDigest({ B: '1', a: '2', Z: '3' }, undefined), contentDigest({ a: '2', Z: '3', B: '1' }, undefined));
  });
});

describe('workloadDigest', () => {
  const t = (kind: 'ConfigMap' | 'Secret', name: string, digest: string) => ({ kind, namespace: 'ns', name, digest });

  it('is independent of order and depends on identity and content', () => {
    const d = workloadDigest([t('ConfigMap', 'a', '1'), t('Secret', 'b', '2')]);
    assert.equal(d, workloadDigest([t('Secret', 'b', '2'), t('ConfigMap', 'a', '1')]));
    assert.notEqual(d, workloadDigest([t('ConfigMap', 'a', '1'), t('Secret', 'b', '3')]));
    assert.notEqual(d, workloadDigest([t('ConfigMap', 'a', '1'), t('ConfigMap', 'b', '2')]), 'kind is part of the identity');
    assert.notEqual(d, workloadDigest([t('ConfigMap', 'a', '1'), t('Secret', 'c', '2')]), 'name is part of the identity');
    assert.notEqual(d, workloadDigest([t('ConfigMap', 'a', '1')]));
  });

  it('does not confuse name and namespace boundaries', () => {
    assert.notEqual(
      workloadDigest([{ kind: 'ConfigMap', namespace: 'a/b', name: 'c', digest: '1' }]),
      workloadDigest([{ kind: 'ConfigMap', namespace: 'a', name: 'b/c', digest: '1' }]),
    );
  });

  it('gives the empty set a digest of its own', () => {
    assert.match(workloadDigest([]), /^[0-9a-f]{64}$/);
  });
});

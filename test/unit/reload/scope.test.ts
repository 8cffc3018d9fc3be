import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ignoreFieldSelector, inScope, watchedNamespaces } from '../../../src/reload/scope.js';

describe('scope', () => {
  it('all namespaces by default', () => {
    assert.equal(inScope('any', { namespaces: [], ignoreNamespaces: [] }, undefined), true);
    assert.deepEqual(watchedNamespaces({ namespaces: [], ignoreNamespaces: ['x'] }), ['']);
  });
  it('--namespaces limits, --ignore-namespaces removes, --namespace-selector filters', () => {
    const o = { namespaces: ['a', 'b'], ignoreNamespaces: ['b'] };
    assert.equal(inScope('a', o, undefined), true);
    assert.equal(inScope('b', o, undefined), false);
    assert.equal(inScope('c', o, undefined), false);
    assert.deepEqual(watchedNamespaces(o), ['a']);
    assert.equal(inScope('a', o, new Set(['c'])), false);
    assert.equal(inScope('a', o, new Set(['a'])), true);
    assert.deepEqual(watchedNamespaces({ namespaces: ['a', 'a'], ignoreNamespaces: [] }), ['a']);
  });
  it('builds a server-side field selector for ignored namespaces', () => {
    assert.equal(ignoreFieldSelector([]), undefined);
    assert.equal(ignoreFieldSelector(['kube-system', 'x']), 'metadata.namespace!=kube-system,metadata.namespace!=x');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIGMAPS, CRDS, DEPLOYMENTS, NAMESPACES, SEALEDSECRETS, apiVersionOf, keyOf, refOf, resourcePath, splitKey } from '../../../src/kube/resources.js';

describe('resourcePath', () => {
  it('builds core, grouped, namespaced and cluster-scoped paths', () => {
    assert.equal(resourcePath(CONFIGMAPS), '/api/v1/configmaps');
    assert.equal(resourcePath(CONFIGMAPS, 'ns'), '/api/v1/namespaces/ns/configmaps');
    assert.equal(resourcePath(CONFIGMAPS, 'ns', 'a'), '/api/v1/namespaces/ns/configmaps/a');
    assert.equal(resourcePath(DEPLOYMENTS, 'ns', 'web', 'status'), '/apis/apps/v1/namespaces/ns/deployments/web/status');
    assert.equal(resourcePath(NAMESPACES, 'ignored', 'x'), '/api/v1/namespaces/x');
    assert.equal(resourcePath(CRDS, undefined, 'a.b'), '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b');
    assert.equal(resourcePath(SEALEDSECRETS, 'n s', 'a/b'), '/apis/bitnami.com/v1alpha1/namespaces/n%20s/sealedsecrets/a%2Fb');
  });
  it('names apiVersions', () => {
    assert.equal(apiVersionOf(CONFIGMAPS), 'v1');
    assert.equal(apiVersionOf(DEPLOYMENTS), 'apps/v1');
  });
});

describe('keys', () => {
  it('round-trips namespace/name and cluster-scoped names', () => {
    assert.equal(keyOf('ns', 'a'), 'ns/a');
    assert.equal(keyOf(undefined, 'a'), 'a');
    assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(splitKey('a'), { namespace: undefined, name: 'a' });
    assert.equal(refOf('Deployment', 'apps', 'web'), 'Deployment apps/web');
  });
});

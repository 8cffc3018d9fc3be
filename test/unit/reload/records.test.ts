import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configRecord, rolloutFields, workloadRecord } from '../../../src/reload/records.js';

describe('configRecord', () => {
  it('keeps identity, a digest and only the annotations that matter, never the data', () => {
    const r = configRecord('Secret', {
      metadata: { name: 's', namespace: 'ns', annotations: { 'keelson.dev/ignore': 'true', 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"p":"c2VjcmV0"}}' }, labels: { a: 'b' } },
      data: { p: 'c2VjcmV0' },
    });
    assert.deepEqual(Object.keys(r).sort(), ['annotations', 'digest', 'kind', 'name', 'namespace']);
    assert.deepEqual(r.annotations, { 'keelson.dev/ignore': 'true' });
    assert.ok(!JSON.stringify(r).includes('c2VjcmV0'));
    assert.match(r.digest, /^[0-9a-f]{64}$/);
  });

  it('the digest ignores metadata', () => {
    const a = configRecord('ConfigMap', { metadata: { name: 'c', namespace: 'n', labels: { x: '1' } }, data: { k: 'v' } });
    const b = configRecord('ConfigMap', { metadata: { name: 'c', namespace: 'n', resourceVersion: '9' }, data: { k: 'v' } });
    assert.equal(a.digest, b.digest);
  });
});

describe('workloadRecord', () => {
  const obj = {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '7', generation: 3, annotations: { 'keelson.dev/configmaps': 'named,pat-.*', 'unrelated': 'x' } },
    spec: {
      replicas: 2,
      template: {
        metadata: { annotations: { 'keelson.dev/config-hash': 'h', 'other': 'y' } },
        spec: {
          containers: [{ name: 'app', env: [{ name: 'KEELSON_APP_CONFIGMAP', value: 'd1' }, { name: 'PLAIN', value: 'p' }], envFrom: [{ configMapRef: { name: 'app' } }] }],
          volumes: [{ name: 'v', secret: { secretName: 'creds' } }],
        },
      },
    },
    status: { observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
  };

  it('keeps refs, the annotations that matter, owned env and rollout fields', () => {
    const r = workloadRecord('Deployment', obj);
    assert.equal(r.uid, 'u1');
    assert.equal(r.resourceVersion, '7');
    assert.deepEqual(r.annotations, { 'keelson.dev/configmaps': 'named,pat-.*' });
    assert.deepEqual(r.templateAnnotations, { 'keelson.dev/config-hash': 'h' });
    assert.deepEqual(r.refs.map((x) => `${x.kind}/${x.name}`), ['ConfigMap/app', 'Secret/creds']);
    assert.deepEqual(r.containers, ['app']);
    assert.deepEqual(r.ownedEnv, { app: { KEELSON_APP_CONFIGMAP: 'd1' } });
    assert.deepEqual(r.rollout, { generation: 3, observedGeneration: 3, desired: 2, current: 2, updated: 2, ready: 2, available: 2, strategy: undefined, partition: undefined, currentRevision: undefined, updateRevision: undefined, progressFailure: undefined });
  });

  it('indexes referenced configs, plain names and a namespace wildcard for patterns', () => {
    const r = workloadRecord('Deployment', obj);
    assert.deepEqual([...r.index].sort(), ['ns/ConfigMap/*', 'ns/ConfigMap/app', 'ns/ConfigMap/named', 'ns/Secret/creds']);
  });

  it('its signature ignores status but not annotations', () => {
    const a = workloadRecord('Deployment', obj);
    const b = workloadRecord('Deployment', { ...obj, status: { observedGeneration: 4 } });
    assert.equal(a.sig, b.sig);
    const c = workloadRecord('Deployment', { ...obj, metadata: { ...obj.metadata, annotations: { 'keelson.dev/auto': 'true' } } });
    assert.notEqual(a.sig, c.sig);
  });

  it('reads the Deployment progress failure and DaemonSet status fields', () => {
    const d = rolloutFields('Deployment', { metadata: { generation: 2 }, spec: {}, status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } });
    assert.equal(d.progressFailure, 'ProgressDeadlineExceeded');
    assert.equal(d.desired, 1, 'replicas default to 1');
    const ds = rolloutFields('DaemonSet', { metadata: { generation: 1 }, spec: { updateStrategy: { type: 'RollingUpdate' } }, status: { observedGeneration: 1, desiredNumberScheduled: 2, currentNumberScheduled: 2, updatedNumberScheduled: 1, numberReady: 2, numberAvailable: 2 } });
    assert.deepEqual([ds.desired, ds.current, ds.updated, ds.ready, ds.available, ds.strategy], [2, 2, 1, 2, 2, 'RollingUpdate']);
    const sts = rolloutFields('StatefulSet', { metadata: {}, spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, status: { currentRevision: 'a', updateRevision: 'b' } });
    assert.deepEqual([sts.partition, sts.currentRevision, sts.updateRevision, sts.strategy], [1, 'a', 'b', 'RollingUpdate']);
  });
});

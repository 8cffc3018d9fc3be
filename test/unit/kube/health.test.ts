import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Health, objectHealth } from '../../../src/kube/health.js';
import type { KubeObject } from '../../../src/kube/types.js';

const obj = (apiVersion: string, kind: string, over: { generation?: number; spec?: unknown; status?: unknown; deletionTimestamp?: string } = {}): KubeObject => ({
  apiVersion, kind, metadata: { name: 'x', namespace: 'ns', generation: over.generation, deletionTimestamp: over.deletionTimestamp },
  ...(over.spec !== undefined ? { spec: over.spec } : {}), ...(over.status !== undefined ? { status: over.status } : {}),
});
const status = (h: Health) => h.status;

describe('objectHealth', () => {
  it('a missing object is progressing (it may still be created); one being deleted too', () => {
    assert.deepEqual(objectHealth(undefined), { status: 'progressing', detail: 'not found' });
    assert.equal(objectHealth(obj('v1', 'ConfigMap', { deletionTimestamp: '2026-01-01T00:00:00Z' })).status, 'progressing');
  });

  describe('Deployment (the rollout rules reload uses)', () => {
    const dep = (spec: object, st: object, generation = 2) => obj('apps/v1', 'Deployment', { generation, spec: { replicas: 3, ...spec }, status: { observedGeneration: 2, ...st } });
    it('is healthy when rolled out at the observed generation', () => {
      assert.equal(status(objectHealth(dep({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }))), 'healthy');
    });
    it('progresses until the controller observes the generation, whatever the counts say', () => {
      const h = objectHealth(dep({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }, 3));
      assert.deepEqual(h, { status: 'progressing', detail: 'waiting for the controller to observe the new generation' });
    });
    it('progresses while replicas are unavailable', () => {
      assert.deepEqual(objectHealth(dep({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 })), { status: 'progressing', detail: '2 of 3 updated replicas available' });
    });
    it('fails on ProgressDeadlineExceeded, naming the unavailable replicas', () => {
      const h = objectHealth(dep({}, { replicas: 3, updatedReplicas: 3, availableReplicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }));
      assert.deepEqual(h, { status: 'failed', detail: '1 of 3 replicas unavailable, ProgressDeadlineExceeded' });
    });
    it('a Deployment of another API group is not judged as apps', () => {
      assert.equal(status(objectHealth(obj('example.com/v1', 'Deployment', { status: {} }))), 'healthy');
    });
  });

  it('StatefulSet and DaemonSet use the rollout rules too', () => {
    const sts = obj('apps/v1', 'StatefulSet', { generation: 1, spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, currentRevision: 'a', updateRevision: 'a' } });
    assert.deepEqual(objectHealth(sts), { status: 'progressing', detail: '1 of 2 replicas ready' });
    const ds = obj('apps/v1', 'DaemonSet', { generation: 1, status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 } });
    assert.equal(status(objectHealth(ds)), 'healthy');
  });

  describe('Job', () => {
    it('is healthy when complete, failed when failed, else progressing', () => {
      assert.equal(status(objectHealth(obj('batch/v1', 'Job', { status: { conditions: [{ type: 'Complete', status: 'True' }] } }))), 'healthy');
      assert.deepEqual(objectHealth(obj('batch/v1', 'Job', { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } })),
        { status: 'failed', detail: 'failed: BackoffLimitExceeded: Job has reached the specified backoff limit' });
      assert.deepEqual(objectHealth(obj('batch/v1', 'Job', { status: { active: 1 } })), { status: 'progressing', detail: 'not complete (1 active, 0 succeeded)' });
      assert.equal(status(objectHealth(obj('batch/v1', 'Job', {}))), 'progressing');
    });
  });

  it('PersistentVolumeClaim: Bound is healthy, Lost failed, else progressing', () => {
    assert.equal(status(objectHealth(obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Bound' } }))), 'healthy');
    assert.equal(status(objectHealth(obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Lost' } }))), 'failed');
    assert.deepEqual(objectHealth(obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending' } })), { status: 'progressing', detail: 'not bound (phase Pending)' });
    assert.equal(status(objectHealth(obj('v1', 'PersistentVolumeClaim'))), 'progressing');
  });

  it('CustomResourceDefinition: Established is healthy, rejected names failed', () => {
    const crd = (conditions: object[]) => obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { status: { conditions } });
    assert.equal(status(objectHealth(crd([{ type: 'Established', status: 'True' }]))), 'healthy');
    assert.equal(status(objectHealth(crd([{ type: 'NamesAccepted', status: 'False', reason: 'KindConflict' }]))), 'failed');
    assert.equal(status(objectHealth(crd([]))), 'progressing');
  });

  it('Namespace: Active is healthy, Terminating progressing', () => {
    assert.equal(status(objectHealth(obj('v1', 'Namespace', { status: { phase: 'Active' } }))), 'healthy');
    assert.equal(status(objectHealth(obj('v1', 'Namespace', { status: { phase: 'Terminating' } }))), 'progressing');
  });

  it('Pod: Succeeded healthy, Failed failed, else its Ready condition', () => {
    assert.equal(status(objectHealth(obj('v1', 'Pod', { status: { phase: 'Succeeded' } }))), 'healthy');
    assert.equal(status(objectHealth(obj('v1', 'Pod', { status: { phase: 'Failed', reason: 'Evicted' } }))), 'failed');
    assert.equal(status(objectHealth(obj('v1', 'Pod', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }))), 'progressing');
    assert.equal(status(objectHealth(obj('v1', 'Pod', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }))), 'healthy');
  });

  describe('any other object', () => {
    const cr = (generation: number | undefined, st: unknown) => obj('example.com/v1', 'Widget', { generation, status: st });
    it('is healthy when it exists and has no Ready or Available condition', () => {
      assert.deepEqual(objectHealth(obj('v1', 'ConfigMap')), { status: 'healthy', detail: 'exists' });
      assert.equal(status(objectHealth(cr(1, { conditions: [{ type: 'Synced', status: 'False' }] }))), 'healthy');
    });
    it('honours Ready, then Available, with observedGeneration', () => {
      assert.equal(status(objectHealth(cr(2, { conditions: [{ type: 'Ready', status: 'True', observedGeneration: 2 }] }))), 'healthy');
      assert.deepEqual(objectHealth(cr(2, { conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }] })), { status: 'progressing', detail: 'Ready condition is for generation 1, not 2' });
      assert.deepEqual(objectHealth(cr(2, { conditions: [{ type: 'Ready', status: 'False', reason: 'Waiting', message: 'for the database' }] })), { status: 'progressing', detail: 'Ready=False: Waiting: for the database' });
      assert.equal(status(objectHealth(cr(2, { conditions: [{ type: 'Available', status: 'True' }] }))), 'healthy');
      assert.equal(status(objectHealth(cr(2, { conditions: [{ type: 'Available', status: 'Unknown' }] }))), 'progressing');
      assert.equal(status(objectHealth(cr(2, { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Available', status: 'True' }] }))), 'progressing', 'Ready wins over Available');
    });
    it('a status.observedGeneration behind the generation is progressing', () => {
      assert.equal(status(objectHealth(cr(3, { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] }))), 'progressing');
    });
    it('Stalled=True is failed', () => {
      assert.deepEqual(objectHealth(cr(1, { conditions: [{ type: 'Stalled', status: 'True', reason: 'BadConfig' }, { type: 'Ready', status: 'False' }] })), { status: 'failed', detail: 'Stalled: BadConfig' });
    });
    it('quotes condition messages flattened and bounded', () => {
      const h = objectHealth(cr(1, { conditions: [{ type: 'Ready', status: 'False', message: `line\n\n${'x'.repeat(5000)}` }] }));
      assert.ok(h.detail.length < 260, `${h.detail.length}`);
      assert.ok(!h.detail.includes('\n'));
    });
  });

  it('never throws and always answers one of three states, whatever the status holds (property)', () => {
    const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), fc.integer(), fc.boolean(), fc.array(fc.anything(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.anything(), { maxKeys: 4 }));
    const cond = fc.record({ type: fc.constantFrom('Ready', 'Available', 'Stalled', 'Complete', 'Failed', 'Established', 'NamesAccepted', 'Progressing', 7), status: fc.constantFrom('True', 'False', 'Unknown', undefined, 1), reason: junk, message: junk, observedGeneration: junk }, { requiredKeys: [] });
    const kinds = fc.constantFrom(['apps/v1', 'Deployment'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['batch/v1', 'Job'], ['v1', 'PersistentVolumeClaim'], ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'], ['v1', 'Namespace'], ['v1', 'Pod'], ['x.io/v1', 'Thing'], [undefined, undefined]);
    fc.assert(fc.property(kinds, fc.option(fc.integer()), fc.oneof(junk, fc.record({ phase: junk, observedGeneration: junk, conditions: fc.oneof(junk, fc.array(fc.oneof(cond, junk), { maxLength: 4 })) }, { requiredKeys: [] })), junk, ([av, kind], generation, st, spec) => {
      const h = objectHealth({ apiVersion: av, kind, metadata: { name: 'x', generation: generation ?? undefined }, status: st, spec } as KubeObject);
      assert.ok(['healthy', 'progressing', 'failed'].includes(h.status));
      assert.equal(typeof h.detail, 'string');
    }), { numRuns: 2000 });
  });
});

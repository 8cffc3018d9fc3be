import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonical, comparable, differs } from '../../../src/gitsync/drift.js';
import { outcomeConditions, setCondition, statusDiffers, withJitter } from '../../../src/gitsync/status.js';

describe('drift', () => {
  const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '5', uid: 'u', generation: 1, managedFields: [{ manager: 'x' }], creationTimestamp: 't', labels: { b: '1', a: '2' } }, data: { k: 'v' }, status: { x: 1 } };
  it('ignores server bookkeeping, status and key order', () => {
    const dry = { kind: 'ConfigMap', apiVersion: 'v1', data: { k: 'v' }, metadata: { labels: { a: '2', b: '1' }, name: 'a', resourceVersion: '6', managedFields: [{ manager: 'y' }] } };
    assert.equal(differs(live, dry), false);
    assert.equal(comparable(live).status, undefined);
  });
  it('sees content changes', () => {
    assert.equal(differs(live, { ...live, data: { k: 'w' } }), true);
    assert.equal(differs(live, { ...live, metadata: { ...live.metadata, annotations: { a: 'b' } } }), true);
  });
  it('canonical JSON sorts keys and drops undefined', () => {
    assert.equal(canonical({ b: 1, a: [{ d: 1, c: undefined }] }), '{"a":[{"d":1}],"b":1}');
  });
});

describe('status', () => {
  it('keeps lastTransitionTime while the status stays', () => {
    let c = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'A', message: 'm' }, 't1');
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'B', message: 'n' }, 't2');
    assert.equal(c[0]!.lastTransitionTime, 't1');
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'C', message: 'o' }, 't3');
    assert.equal(c[0]!.lastTransitionTime, 't3');
  });
  it('writes Ready always, Reconciling and Stalled only while True', () => {
    const ok = outcomeConditions(undefined, { ready: 'True', reason: 'ReconciliationSucceeded', message: 'applied' }, 3, 't');
    assert.deepEqual(ok.map((c) => [c.type, c.status, c.observedGeneration]), [['Ready', 'True', 3]]);
    const stalled = outcomeConditions(ok, { ready: 'False', reason: 'InvalidSpec', message: 'bad', stalled: true }, 4, 't2');
    assert.deepEqual(stalled.map((c) => [c.type, c.status, c.reason]), [['Ready', 'False', 'InvalidSpec'], ['Stalled', 'True', 'InvalidSpec']]);
    const progressing = outcomeConditions(stalled, { ready: 'True', reason: 'Progressing', message: 'applying', reconciling: true }, 5, 't3');
    assert.deepEqual(progressing.map((c) => c.type), ['Ready', 'Reconciling']);
    assert.deepEqual(progressing[1], { type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'applying', observedGeneration: 5, lastTransitionTime: 't3' });
    assert.deepEqual(outcomeConditions(progressing, { ready: 'True', reason: 'ReconciliationSucceeded', message: 'done' }, 5, 't4').map((c) => c.type), ['Ready']);
  });
  it('compares only the fields about to be written', () => {
    assert.equal(statusDiffers({ lastAppliedRevision: 'a', drifted: 0 }, { lastAppliedRevision: 'a' }), false);
    assert.equal(statusDiffers({ lastAppliedRevision: 'a' }, { lastAppliedRevision: 'b' }), true);
    assert.equal(statusDiffers(undefined, { drifted: 0 }), true);
    assert.equal(statusDiffers({ inventory: [{ id: 'x', v: 'v1' }] }, { inventory: [{ v: 'v1', id: 'x' }] }), false);
  });
  it('jitters up to 10% above the interval', () => {
    assert.equal(withJitter(1000, 0), 1000);
    assert.equal(withJitter(1000, 0.999), 1100);
  });
});

describe('syncer and registration decisions', async () => {
  const { classify } = await import('../../../src/gitsync/syncer.js');
  const { gitSyncRecord } = await import('../../../src/gitsync/register.js');
  const { GitError } = await import('../../../src/gitsync/git.js');
  const { VerificationError } = await import('../../../src/gitsync/verify.js');
  const { RenderError } = await import('../../../src/gitsync/render.js');
  const { ValidationError, ApplyError } = await import('../../../src/gitsync/apply.js');
  const { RefError } = await import('../../../src/gitsync/refs.js');
  const { SecretRefError } = await import('../../../src/gitsync/source.js');
  it('classifies failures into Ready reasons', () => {
    assert.equal(classify(new GitError('x')), 'GitOperationFailed');
    assert.equal(classify(new RefError('x')), 'GitOperationFailed');
    assert.equal(classify(new SecretRefError('x')), 'GitOperationFailed');
    assert.equal(classify(new VerificationError('x')), 'VerificationFailed');
    assert.equal(classify(new RenderError('x')), 'ValidationFailed');
    assert.equal(classify(new ValidationError('x')), 'ValidationFailed');
    assert.equal(classify(new ApplyError('x')), 'ApplyFailed');
    assert.equal(classify(new Error('x')), 'ReconciliationFailed');
  });
  it('keeps what triggers a sync in the store record, and a copy without inventory or managedFields', () => {
    const { latest, ...rest } = gitSyncRecord({ metadata: { name: 'a', generation: 3, annotations: { 'keelson.dev/requested-at': 'now', other: 'x' }, managedFields: [{ manager: 'm' }] }, spec: { url: 'u', webhookSecretRef: { name: 'hook' } }, status: { inventory: [{ id: 'ns_a__ConfigMap', v: 'v1' }], lastAppliedRevision: 'main@sha1:x' } });
    assert.deepEqual(rest, { generation: 3, deleting: false, requestedAt: 'now', webhookSecret: 'hook', order: { dependsOn: [], ready: false, state: 'its latest generation is not reconciled yet' } });
    assert.deepEqual(latest.obj, { metadata: { name: 'a', generation: 3, annotations: { 'keelson.dev/requested-at': 'now', other: 'x' } }, spec: { url: 'u', webhookSecretRef: { name: 'hook' } }, status: { lastAppliedRevision: 'main@sha1:x' } });
    assert.equal(latest.inventory.count, 1);
    const { latest: bare, ...bareRest } = gitSyncRecord({ metadata: { name: 'a' } });
    assert.deepEqual(bareRest, { generation: 0, deleting: false, requestedAt: undefined, webhookSecret: undefined, order: { dependsOn: [], ready: false, state: 'not reconciled yet' } });
    assert.equal(bare.inventory.count, 0);
    assert.equal(gitSyncRecord({ metadata: { name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' } }).deleting, true);
  });
});

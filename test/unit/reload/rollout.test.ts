import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RolloutFields, rolloutState } from '../../../src/kube/health.js';

const f = (over: Partial<RolloutFields>): RolloutFields => ({ generation: 2, observedGeneration: 2, desired: 3, current: 3, updated: 3, ready: 3, available: 3, ...over });

describe('rolloutState', () => {
  it('waits for the controller to observe the new generation, for every kind', () => {
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
      assert.equal(rolloutState(kind, f({ observedGeneration: 1 })).state, 'progressing', kind);
    }
  });

  describe('Deployment', () => {
    it('is complete when all replicas are updated and available and no old ones remain', () => {
      assert.equal(rolloutState('Deployment', f({})).state, 'complete');
    });
    it('progresses while replicas are not updated, old ones remain, or updated ones are not available', () => {
      assert.match(rolloutState('Deployment', f({ updated: 1 })).detail, /1 of 3 replicas updated/);
      assert.match(rolloutState('Deployment', f({ current: 4 })).detail, /1 old replicas pending termination/);
      assert.match(rolloutState('Deployment', f({ available: 2 })).detail, /2 of 3 updated replicas available/);
    });
    it('fails on ProgressDeadlineExceeded, only once the generation is observed', () => {
      assert.equal(rolloutState('Deployment', f({ progressFailure: 'ProgressDeadlineExceeded', updated: 1 })).state, 'failed');
      assert.equal(rolloutState('Deployment', f({ progressFailure: 'ProgressDeadlineExceeded', observedGeneration: 1 })).state, 'progressing');
      assert.equal(rolloutState('Deployment', f({ progressFailure: 'SomethingElse', updated: 1 })).state, 'progressing');
    });
    it('handles zero replicas', () => {
      assert.equal(rolloutState('Deployment', f({ desired: 0, current: 0, updated: 0, ready: 0, available: 0 })).state, 'complete');
    });
  });

  describe('StatefulSet', () => {
    it('is complete when updated, ready and the update revision is current', () => {
      assert.equal(rolloutState('StatefulSet', f({ currentRevision: 'r2', updateRevision: 'r2' })).state, 'complete');
      assert.equal(rolloutState('StatefulSet', f({ currentRevision: 'r1', updateRevision: 'r2' })).state, 'progressing');
      assert.equal(rolloutState('StatefulSet', f({ ready: 2 })).state, 'progressing');
      assert.equal(rolloutState('StatefulSet', f({ updated: 2 })).state, 'progressing');
    });
    it('with a partition, only the replicas above it must update', () => {
      assert.equal(rolloutState('StatefulSet', f({ partition: 2, updated: 1 })).state, 'complete');
      assert.equal(rolloutState('StatefulSet', f({ partition: 1, updated: 1 })).state, 'progressing');
    });
    it('OnDelete is not tracked', () => {
      assert.equal(rolloutState('StatefulSet', f({ strategy: 'OnDelete', updated: 0 })).state, 'complete');
    });
  });

  describe('DaemonSet', () => {
    it('is complete when every scheduled pod is updated and available', () => {
      assert.equal(rolloutState('DaemonSet', f({})).state, 'complete');
      assert.equal(rolloutState('DaemonSet', f({ updated: 2 })).state, 'progressing');
      assert.equal(rolloutState('DaemonSet', f({ available: 2 })).state, 'progressing');
      assert.equal(rolloutState('DaemonSet', f({ strategy: 'OnDelete', updated: 0 })).state, 'complete');
    });
  });
});

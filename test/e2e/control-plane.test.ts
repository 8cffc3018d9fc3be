// The test control plane itself: it starts, enforces RBAC for token users, runs the workload controllers, survives
// an apiserver restart with its data, and tears down.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, KubeClient } from '../../src/kube/client.js';
import { CONFIGMAPS, DEPLOYMENTS, NAMESPACES, REPLICASETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { startFakeKubelet } from '../support/fake-kubelet.js';
import { eventually } from '../support/wait.js';

describe('test control plane', () => {
  let cp: ControlPlane;
  before(async () => { cp = await startControlPlane({ controllerManager: true, users: { nobody: [] } }); });
  after(async () => { await cp?.stop(); });

  it('serves the API to the admin', async () => {
    await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cp-test' } });
    const ns = await cp.client.get(NAMESPACES, undefined, 'cp-test');
    assert.equal(ns.metadata.name, 'cp-test');
  });

  it('enforces RBAC for other users', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.userKubeConfigPath('nobody'));
    const nobody = new KubeClient(kc);
    try {
      await assert.rejects(nobody.list(CONFIGMAPS, { namespace: 'cp-test' }), (e: unknown) => e instanceof ApiError && e.status === 403);
    } finally { nobody.close(); }
  });

  it('runs the deployment controller (a Deployment gets a ReplicaSet)', async () => {
    await cp.client.create(DEPLOYMENTS, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'cp-test' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    await eventually('a ReplicaSet for web', async () => (await cp.client.list(REPLICASETS, { namespace: 'cp-test' })).items.length > 0);
  });

  it('rolls a Deployment out to Available with the fake kubelet', async () => {
    const kubelet = await startFakeKubelet(cp.client);
    try {
      await eventually('web to be available', async () => {
        const d = await cp.client.get(DEPLOYMENTS, 'cp-test', 'web');
        const st = d.status as { availableReplicas?: number; updatedReplicas?: number } | undefined;
        return st?.availableReplicas === 1 && st.updatedReplicas === 1;
      });
    } finally { await kubelet.stop(); }
  });

  it('keeps data across an apiserver restart', async () => {
    await cp.restartApiServer();
    const ns = await cp.client.get(NAMESPACES, undefined, 'cp-test');
    assert.equal(ns.metadata.name, 'cp-test');
  });
});

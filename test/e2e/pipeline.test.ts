// The whole loop across features on one real control plane: a SealedSecret and a ConfigMap committed to Git are
// applied by a GitSync, the Secret is unsealed, and a new sealed value in a later commit rolls the annotated
// Deployment exactly once; then many sync intervals pass without sync and reload fighting (no extra rolls, no drift).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEPLOYMENTS, EVENTS, REPLICASETS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { type GitServers, startGitServers, type TestRepo } from '../support/git-servers.js';
import { createGitSync, createNamespace, gitSyncStatus, installGitSyncCrd, waitApplied } from '../support/gitsync-fixture.js';
import { delay, eventually } from '../support/wait.js';
import { installCrd as installSealedSecretCrd, sealed } from './sealing-support.js';

const NS = 'shop';
const SECRET_VALUES = ['first-pipeline-secret-value', 'second-pipeline-secret-value'];

const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  annotations:
    keelson.dev/auto: "true"
spec:
  replicas: 1
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: shop
          image: example/shop:1
          envFrom: [{configMapRef: {name: shop-config}}]
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: shop-db, key: password}}
`;
const configYaml = `apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config}
data: {MODE: live}
`;

describe('pipeline: Git → SealedSecret → Secret → roll, exactly once', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  let git: GitServers;
  let controller: RunningController;
  let repo: TestRepo;
  let cert: string;

  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    git = await startGitServers();
    await installSealedSecretCrd(cp.client);
    await installGitSyncCrd(cp.client);
    await createNamespace(cp.client, 'keelson-system');
    await createNamespace(cp.client, NS);
    controller = await startController(cp, ['--key-size', '2048', '--allow-insecure-git']);
    cert = await eventually('the sealing certificate', async () => { const r = await fetch(`${controller.httpUrl}/v1/cert.pem`); return r.ok ? r.text() : undefined; });
    repo = git.repo('shop');
  });
  after(async () => {
    await controller?.stop();
    await kubelet?.stop();
    await git?.stop();
    await cp?.stop();
  });

  const sealedYaml = (value: string) => JSON.stringify(sealed(cert, NS, 'shop-db', { password: value }));
  const replicaSets = async () => (await cp.client.list(REPLICASETS, { namespace: NS })).items.length;
  const reloadedEvents = async () => (await cp.client.list<KubeObject & { reason?: string; message?: string }>(EVENTS, { namespace: NS })).items.filter((e) => e.reason === 'Reloaded');
  const available = () => eventually('shop to be available and up to date', async () => {
    const d = await cp.client.get(DEPLOYMENTS, NS, 'shop');
    const st = d.status as { updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number; replicas?: number } | undefined;
    return !!st && st.observedGeneration === d.metadata.generation && st.updatedReplicas === 1 && st.availableReplicas === 1 && st.replicas === 1;
  }, 60_000);

  it('applies the repository, unseals the Secret and records a baseline without a roll', async () => {
    const rev = repo.write({ 'app/deployment.yaml': deploymentYaml, 'app/config.yaml': configYaml, 'app/sealed.json': sealedYaml(SECRET_VALUES[0]!) }).commit('shop');
    await createGitSync(cp.client, 'keelson-system', 'shop', { url: `file://${repo.bare}`, ref: { branch: 'main' }, path: 'app', targetNamespace: NS, prune: true, interval: '1s' });
    await waitApplied(cp.client, 'keelson-system', 'shop', `main@sha1:${rev}`, 60_000);
    const s = await eventually('the unsealed Secret', () => cp.client.tryGet(SECRETS, NS, 'shop-db'));
    assert.equal(Buffer.from((s.data as Record<string, string>).password!, 'base64').toString(), SECRET_VALUES[0]);
    await available();
    await eventually('the reload baseline', async () => (await cp.client.get(DEPLOYMENTS, NS, 'shop')).metadata.annotations?.['keelson.dev/observed']);
    assert.equal(await replicaSets(), 1);
    assert.equal((await reloadedEvents()).length, 0);
  });

  it('a new sealed value committed to Git rolls the Deployment exactly once', async () => {
    const rev = repo.write({ 'app/sealed.json': sealedYaml(SECRET_VALUES[1]!) }).commit('rotate the db password');
    await waitApplied(cp.client, 'keelson-system', 'shop', `main@sha1:${rev}`, 60_000);
    await eventually('the Secret to carry the new value', async () => {
      const s = await cp.client.get(SECRETS, NS, 'shop-db');
      return Buffer.from((s.data as Record<string, string>).password!, 'base64').toString() === SECRET_VALUES[1];
    });
    await eventually('a second ReplicaSet', async () => (await replicaSets()) === 2, 60_000);
    await available();
    const events = await reloadedEvents();
    assert.equal(events.length, 1);
    assert.match(events[0]!.message ?? '', /Secret shop\/shop-db/);
    await eventually('RolloutComplete', async () => (await cp.client.list<KubeObject & { reason?: string }>(EVENTS, { namespace: NS })).items.some((e) => e.reason === 'RolloutComplete'), 60_000);
  });

  it('sync and reload do not fight across many intervals: no extra rolls, no drift, no rewrites', async () => {
    const before = await cp.client.get(DEPLOYMENTS, NS, 'shop');
    const reloads = metricValue(await controller.metrics(), 'keelson_reloads_total');
    // Ten 1s sync intervals (and several debounce windows) with nothing changing in Git.
    await delay(10_000);
    const after = await cp.client.get(DEPLOYMENTS, NS, 'shop');
    assert.equal(after.metadata.generation, before.metadata.generation, 'the pod template was not rewritten');
    assert.equal(await replicaSets(), 2);
    assert.equal((await reloadedEvents()).length, 1);
    assert.equal(metricValue(await controller.metrics(), 'keelson_reloads_total'), reloads);
    const st = await gitSyncStatus(cp.client, 'keelson-system', 'shop');
    assert.equal(st.drifted ?? 0, 0);
    const template = (after.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
    assert.ok(template.metadata.annotations?.['keelson.dev/config-hash'], 'the reload hash survives Git applies');
  });

  it('never logs a secret value', () => {
    const logs = controller.logText();
    for (const v of SECRET_VALUES) assert.ok(!logs.includes(v), 'a secret value was logged');
    for (const v of SECRET_VALUES) assert.ok(!logs.includes(Buffer.from(v).toString('base64')), 'a base64 secret value was logged');
  });
});

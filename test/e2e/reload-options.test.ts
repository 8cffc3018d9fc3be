// Reload options on the real control plane (kube-controller-manager + fake kubelet): each test runs its own
// controller with the flags under test, scoped to its namespaces: env-vars strategy, reload-on-delete/create,
// the roll rate limit, --rollout-timeout, --auto-reload-all, the scope flags, and RBAC forbidden on a namespace.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NAMESPACES } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { DIGEST_KEY_SECRET } from '../../src/reload/digest-key.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { eventually } from '../support/wait.js';
import {
  CONFIGMAPS, CONFIG_HASH, DEPLOYMENTS, LAST_RELOAD, OBSERVED, SECRETS, assertStillReplicaSets, configMap, createNamespace,
  deployment, replicaSetCount, secret, setData, templateAnnotations, waitForEvent, waitForObserved, waitForReplicaSets,
} from './reload-support.js';

const ROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true } as const;
const ROLEBINDINGS = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true } as const;
const BASE_FLAGS = ['--disable-sealing', '--disable-gitsync'];

interface Env { name: string; value?: string }
const containerEnv = (d: KubeObject): Env[] => ((d.spec as { template: { spec: { containers: { env?: Env[] }[] } } }).template.spec.containers[0]!.env ?? []);

describe('reload options', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  const run = async (flags: string[], body: (ctl: RunningController) => Promise<void>) => {
    const ctl = await startController(cp, [...BASE_FLAGS, ...flags]);
    try { await body(ctl); } finally { await ctl.stop(); }
  };

  before(async () => {
    cp = await startControlPlane({ controllerManager: true, users: { limited: [] } });
    kubelet = await startFakeKubelet(cp.client);
  });
  after(async () => {
    await kubelet?.stop();
    await cp?.stop();
  });

  it('--reload-strategy env-vars sets KEELSON_<NAME>_<KIND> in the referencing container, kept across a Git apply', async () => {
    const ns = await createNamespace(cp.client, 'env-vars');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app-config', { k: '1' }));
    const manifest = () => deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { envFrom: [{ kind: 'ConfigMap', name: 'app-config', key: 'k' }] });
    await cp.client.apply(DEPLOYMENTS, manifest(), { fieldManager: 'keelson-sync' });
    await run(['--reload-strategy', 'env-vars', '--namespaces', ns], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await setData(cp.client, ns, 'app-config', { k: '2' });
      await waitForReplicaSets(cp.client, ns, 'web', 2);
      const d = await cp.client.get(DEPLOYMENTS, ns, 'web');
      const v = containerEnv(d).find((e) => e.name === 'KEELSON_APP_CONFIG_CONFIGMAP');
      assert.match(v?.value ?? '', /^h1:[0-9a-f]{64}$/, 'keyed (HMAC) form');
      assert.equal(templateAnnotations(d)[CONFIG_HASH], undefined);
      await cp.client.apply(DEPLOYMENTS, manifest(), { fieldManager: 'keelson-sync' });
      const again = await cp.client.get(DEPLOYMENTS, ns, 'web');
      assert.equal(containerEnv(again).find((e) => e.name === 'KEELSON_APP_CONFIG_CONFIGMAP')?.value, v!.value, 'a Git apply does not strip it');
      assert.ok(containerEnv(again).some((e) => e.name === 'E0'), 'nor does Keelson strip Git\'s variables');
      await assertStillReplicaSets(cp.client, ns, 'web', 2);
    });
  });

  it('--reload-on-delete and --reload-on-create roll for deleting a referenced config and creating a named one', async () => {
    const ns = await createNamespace(cp.client, 'lifecycle');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'doomed', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true', 'keelson.dev/secrets': 'later' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'doomed', optional: true }] }));
    await run(['--reload-on-delete', '--reload-on-create', '--namespaces', ns], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await waitForReplicaSets(cp.client, ns, 'web', 1);
      await cp.client.delete(CONFIGMAPS, ns, 'doomed');
      await waitForReplicaSets(cp.client, ns, 'web', 2);
      assert.match((await waitForEvent(cp.client, ns, 'web', 'Reloaded')).message, /ConfigMap lifecycle\/doomed deleted/);
      await cp.client.create(SECRETS, secret(ns, 'later', { k: 'v' }));
      await waitForReplicaSets(cp.client, ns, 'web', 3);
      await assertStillReplicaSets(cp.client, ns, 'web', 3);
    });
  });

  it('--max-rolls-per-second spaces rolls out', async () => {
    const ns = await createNamespace(cp.client, 'ratelimit');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'shared', { k: '1' }));
    const names = ['a', 'b', 'c'];
    for (const n of names) await cp.client.create(DEPLOYMENTS, deployment(ns, n, { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'shared' }] }));
    await run(['--max-rolls-per-second', '0.2', '--namespaces', ns], async (ctl) => {
      for (const n of names) await waitForObserved(cp.client, DEPLOYMENTS, ns, n);
      await setData(cp.client, ns, 'shared', { k: '2' });
      for (const n of names) await waitForReplicaSets(cp.client, ns, n, 2, 40_000);
      const times: number[] = [];
      for (const n of names) {
        const d = await cp.client.get(DEPLOYMENTS, ns, n);
        times.push(Date.parse((JSON.parse(d.metadata.annotations![LAST_RELOAD]!) as { at: string }).at));
      }
      times.sort((x, y) => x - y);
      // One token every 5 s: consecutive rolls are at least (almost) that far apart.
      assert.ok(times[1]! - times[0]! >= 4500 && times[2]! - times[1]! >= 4500, `roll times ${times.map((t) => t - times[0]!).join(', ')} ms`);
      assert.equal(metricValue(await ctl.metrics(), 'keelson_reloads_total', { result: 'rolled' }), 3);
    });
  });

  it('--rollout-timeout reports RolloutFailed for a rollout that does not finish in time', async () => {
    const ns = await createNamespace(cp.client, 'rollout-timeout');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { image: 'example/never-ready:2', volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await run(['--rollout-timeout', '3s', '--namespaces', ns], async (ctl) => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await setData(cp.client, ns, 'app', { k: '2' });
      const failed = await waitForEvent(cp.client, ns, 'web', 'RolloutFailed', 20_000);
      assert.match(failed.message, /not complete within --rollout-timeout \(3s\)/);
      assert.equal(metricValue(await ctl.metrics(), 'keelson_rollouts_total', { kind: 'Deployment', result: 'timeout' }), 1);
    });
  });

  it('a restarted controller resumes tracking a rollout that was still in progress', async () => {
    const ns = await createNamespace(cp.client, 'resume');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { image: 'example/never-ready:3', volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await run(['--rollout-timeout', '8s', '--namespaces', ns], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await setData(cp.client, ns, 'app', { k: '2' });
      await waitForEvent(cp.client, ns, 'web', 'Reloaded');
    });
    await run(['--rollout-timeout', '8s', '--namespaces', ns], async (ctl) => {
      const failed = await waitForEvent(cp.client, ns, 'web', 'RolloutFailed', 20_000);
      assert.match(failed.message, /ConfigMap resume\/app changed failed|not complete within --rollout-timeout/);
      assert.equal(metricValue(await ctl.metrics(), 'keelson_rollouts_total', { result: 'timeout' }), 1, 'reported by the restarted controller');
    });
  });

  it('--auto-reload-all rolls unannotated workloads, except those that opt out', async () => {
    const ns = await createNamespace(cp.client, 'auto-all');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'plain', {}, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'optout', { 'keelson.dev/auto': 'false' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await run(['--auto-reload-all', '--namespaces', ns], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'plain');
      await waitForReplicaSets(cp.client, ns, 'optout', 1);
      await setData(cp.client, ns, 'app', { k: '2' });
      await waitForReplicaSets(cp.client, ns, 'plain', 2);
      await assertStillReplicaSets(cp.client, ns, 'optout', 1);
    });
  });

  it('--namespaces and --ignore-namespaces limit where it acts', async () => {
    const [a, b, c] = [await createNamespace(cp.client, 'scope-a'), await createNamespace(cp.client, 'scope-b'), await createNamespace(cp.client, 'scope-c')];
    for (const ns of [a, b, c]) {
      await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
      await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    }
    await run(['--namespaces', `${a},${b}`, '--ignore-namespaces', b], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, a, 'web');
      for (const ns of [a, b, c]) await setData(cp.client, ns, 'app', { k: '2' });
      await waitForReplicaSets(cp.client, a, 'web', 2);
      await assertStillReplicaSets(cp.client, b, 'web', 1);
      assert.equal(await replicaSetCount(cp.client, c, 'web'), 1);
      for (const ns of [b, c]) assert.equal((await cp.client.get(DEPLOYMENTS, ns, 'web')).metadata.annotations?.[OBSERVED], undefined);
    });
    // Cluster-wide with --ignore-namespaces (a server-side field selector).
    await run(['--ignore-namespaces', c], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, b, 'web');
      await setData(cp.client, b, 'app', { k: '3' });
      await setData(cp.client, c, 'app', { k: '3' });
      await waitForReplicaSets(cp.client, b, 'web', 2);
      await assertStillReplicaSets(cp.client, c, 'web', 1);
    });
  });

  it('--namespace-selector acts only in matching namespaces; a namespace that starts matching gets a baseline', async () => {
    const blue = await createNamespace(cp.client, 'sel-blue', { team: 'blue' });
    const red = await createNamespace(cp.client, 'sel-red', { team: 'red' });
    for (const ns of [blue, red]) {
      await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
      await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    }
    await run(['--namespace-selector', 'team=blue', '--namespaces', `${blue},${red}`], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, blue, 'web');
      await setData(cp.client, blue, 'app', { k: '2' });
      await setData(cp.client, red, 'app', { k: '2' });
      await waitForReplicaSets(cp.client, blue, 'web', 2);
      await assertStillReplicaSets(cp.client, red, 'web', 1);
      assert.equal((await cp.client.get(DEPLOYMENTS, red, 'web')).metadata.annotations?.[OBSERVED], undefined);
      await cp.client.patch({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, undefined, red, 'merge', { metadata: { labels: { team: 'blue' } } });
      await waitForObserved(cp.client, DEPLOYMENTS, red, 'web');
      await assertStillReplicaSets(cp.client, red, 'web', 1);
      await setData(cp.client, red, 'app', { k: '3' });
      await waitForReplicaSets(cp.client, red, 'web', 2);
    });
  });

  it('--resource-label-selector only watches matching ConfigMaps and Secrets', async () => {
    const ns = await createNamespace(cp.client, 'label-sel');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'watched', { k: '1' }, {}, { reload: 'yes' }));
    await cp.client.create(CONFIGMAPS, configMap(ns, 'unwatched', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'watched' }] }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'other', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'unwatched' }] }));
    await run(['--resource-label-selector', 'reload=yes', '--namespaces', ns], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'other');
      await setData(cp.client, ns, 'unwatched', { k: '2' });
      await setData(cp.client, ns, 'watched', { k: '2' });
      await waitForReplicaSets(cp.client, ns, 'web', 2);
      await assertStillReplicaSets(cp.client, ns, 'other', 1);
    });
  });

  it('two controllers racing on one workload roll it once (the loser gets 409, rereads and finds it done)', async () => {
    const ns = await createNamespace(cp.client, 'race');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    for (const n of ['w1', 'w2', 'w3']) await cp.client.create(DEPLOYMENTS, deployment(ns, n, { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await run(['--namespaces', ns], async (first) => {
      await run(['--namespaces', ns], async (second) => {
        for (const n of ['w1', 'w2', 'w3']) await waitForObserved(cp.client, DEPLOYMENTS, ns, n);
        await setData(cp.client, ns, 'app', { k: '2' });
        for (const n of ['w1', 'w2', 'w3']) await waitForReplicaSets(cp.client, ns, n, 2);
        for (const n of ['w1', 'w2', 'w3']) await assertStillReplicaSets(cp.client, ns, n, 2);
        const rolled = metricValue(await first.metrics(), 'keelson_reloads_total', { result: 'rolled' }) + metricValue(await second.metrics(), 'keelson_reloads_total', { result: 'rolled' });
        assert.equal(rolled, 3, 'one roll per workload across both controllers');
      });
    });
  });

  it('removing the annotation forgets the baseline; adding it back is a first sight (no roll)', async () => {
    const ns = await createNamespace(cp.client, 'forget');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await run(['--namespaces', ns], async () => {
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await cp.client.patch(DEPLOYMENTS, ns, 'web', 'merge', { metadata: { annotations: { 'keelson.dev/auto': null } } });
      await eventually('the baseline to be removed', async () => (await cp.client.get(DEPLOYMENTS, ns, 'web')).metadata.annotations?.[OBSERVED] === undefined);
      await setData(cp.client, ns, 'app', { k: '2' });
      await assertStillReplicaSets(cp.client, ns, 'web', 1);
      await cp.client.patch(DEPLOYMENTS, ns, 'web', 'merge', { metadata: { annotations: { 'keelson.dev/auto': 'true' } } });
      await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
      await assertStillReplicaSets(cp.client, ns, 'web', 1);
    });
  });

  it('a namespace it may not read is logged and counted as forbidden; the others keep working', async () => {
    const ok = await createNamespace(cp.client, 'rbac-ok');
    const denied = await createNamespace(cp.client, 'rbac-denied');
    await cp.client.create(ROLES, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'keelson-reload', namespace: ok },
      rules: [
        { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    });
    await cp.client.create(ROLEBINDINGS, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'keelson-reload', namespace: ok },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'keelson-reload' },
      subjects: [{ kind: 'User', name: 'limited', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    // As manifests/role.yaml grants in the controller namespace: the reload digest key Secret.
    if (!(await cp.client.tryGet(NAMESPACES, undefined, 'keelson-system'))) await createNamespace(cp.client, 'keelson-system');
    await cp.client.create(ROLES, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'keelson-digest-key', namespace: 'keelson-system' },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [DIGEST_KEY_SECRET], verbs: ['get'] },
      ],
    });
    await cp.client.create(ROLEBINDINGS, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'keelson-digest-key', namespace: 'keelson-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'keelson-digest-key' },
      subjects: [{ kind: 'User', name: 'limited', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    await cp.client.create(CONFIGMAPS, configMap(ok, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ok, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await run(['--kubeconfig', cp.userKubeConfigPath('limited'), '--namespaces', `${ok},${denied}`], async (ctl) => {
      await waitForObserved(cp.client, DEPLOYMENTS, ok, 'web');
      await setData(cp.client, ok, 'app', { k: '2' });
      await waitForReplicaSets(cp.client, ok, 'web', 2);
      await eventually('a forbidden log line naming the namespace', () => ctl.logs.some((l) => typeof l.msg === 'string' && /forbidden/.test(l.msg) && String(l.resource).includes(denied)));
      assert.ok(metricValue(await ctl.metrics(), 'keelson_api_forbidden_total', { namespace: denied }) > 0);
    });
  });
});


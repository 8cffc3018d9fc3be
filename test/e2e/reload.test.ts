// Reload on the real control plane with kube-controller-manager and the fake kubelet, one controller with default
// flags: exactly-once rolls (a roll is a new ReplicaSet), every no-roll case of DESIGN §1, triggers and their
// Reloader aliases, rollout tracking, server-side-apply coexistence, restart and change-while-down, and a log scan.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { delay, eventually } from '../support/wait.js';
import {
  CONFIGMAPS, CONFIG_HASH, DAEMONSETS, DEPLOYMENTS, LAST_RELOAD, OBSERVED, QUIET_MS, SECRETS, STATEFULSETS, assertStillReplicaSets,
  configHash, configMap, createNamespace, daemonSet, deployment, eventsFor, replicaSetCount, secret, setData, setSecret, statefulSet,
  templateAnnotations, waitForEvent, waitForObserved, waitForReplicaSets,
} from './reload-support.js';

const SECRET_VALUES = ['s3cr3t-hunter2-value', 'rotated-pa55word-xyz', 'envvar-t0ken-abcdef', 'first-unsealed-v4lue', 'second-unsealed-v4lue'];

describe('reload (default flags)', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  let ctl: RunningController;
  const logs: string[] = [];

  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    ctl = await startController(cp, ['--disable-sealing', '--disable-gitsync']);
  });
  after(async () => {
    if (ctl) { logs.push(ctl.logText()); await ctl.stop(); }
    await kubelet?.stop();
    await cp?.stop();
  });

  it('rolls a Deployment exactly once when a referenced ConfigMap changes, and tracks the rollout', async () => {
    const ns = await createNamespace(cp.client, 'roll-once');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { 'a.conf': 'one' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    const baseline = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.ok(baseline['ConfigMap/app'], 'the baseline names the referenced ConfigMap');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    assert.equal(await configHash(cp.client, DEPLOYMENTS, ns, 'web'), undefined, 'first sight does not touch the pod template');

    await setData(cp.client, ns, 'app', { 'a.conf': 'two' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    const d = await cp.client.get(DEPLOYMENTS, ns, 'web');
    assert.match(templateAnnotations(d)[CONFIG_HASH] ?? '', /^h1:[0-9a-f]{64}$/, 'keyed (HMAC) form');
    const last = JSON.parse(d.metadata.annotations![LAST_RELOAD]!) as { trigger: string; hash: string; at: string };
    assert.equal(last.trigger, `ConfigMap ${ns}/app`);
    assert.equal(last.hash, templateAnnotations(d)[CONFIG_HASH]);
    const reloaded = await waitForEvent(cp.client, ns, 'web', 'Reloaded');
    assert.match(reloaded.message, /ConfigMap roll-once\/app changed/);
    await waitForEvent(cp.client, ns, 'web', 'RolloutComplete');
    await assertStillReplicaSets(cp.client, ns, 'web', 2);
    const m = await ctl.metrics();
    assert.ok(metricValue(m, 'keelson_reloads_total', { kind: 'Deployment', result: 'rolled' }) >= 1);
    assert.ok(metricValue(m, 'keelson_rollouts_total', { kind: 'Deployment', result: 'complete' }) >= 1);
    assert.ok(metricValue(m, 'keelson_reload_latency_seconds_count') >= 1);
  });

  it('does not roll for a metadata-only change or an identical re-apply', async () => {
    const ns = await createNamespace(cp.client, 'no-roll-meta');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: 'v' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'reloader.stakater.com/auto': 'true' }, { envFrom: [{ kind: 'ConfigMap', name: 'app', key: 'k' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await cp.client.patch(CONFIGMAPS, ns, 'app', 'merge', { metadata: { labels: { touched: 'yes' }, annotations: { note: 'metadata only' } } });
    await cp.client.apply(CONFIGMAPS, configMap(ns, 'app', { k: 'v' }), { fieldManager: 'someone-else', force: true });
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
  });

  it('does not roll for a config no workload references, nor for unannotated workloads', async () => {
    const ns = await createNamespace(cp.client, 'no-roll-unref');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'used', { k: 'v' }));
    await cp.client.create(CONFIGMAPS, configMap(ns, 'unused', { k: 'v' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'used' }] }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'plain', {}, { volumesFrom: [{ kind: 'ConfigMap', name: 'used' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await waitForReplicaSets(cp.client, ns, 'plain', 1);
    await setData(cp.client, ns, 'unused', { k: 'changed' });
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'used', { k: 'changed' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    await assertStillReplicaSets(cp.client, ns, 'plain', 1);
    assert.equal((await cp.client.get(DEPLOYMENTS, ns, 'plain')).metadata.annotations?.[OBSERVED], undefined);
  });

  it('records a baseline without a roll when the annotation is added, then rolls on the next change', async () => {
    const ns = await createNamespace(cp.client, 'annot-added');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: 'v1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', {}, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'app', { k: 'v2' }); // changed before the annotation: not a reason to roll later
    await delay(500);
    await cp.client.patch(DEPLOYMENTS, ns, 'web', 'merge', { metadata: { annotations: { 'keelson.dev/auto': 'true' } } });
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'app', { k: 'v3' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
  });

  it('coalesces a burst of changes inside the debounce window into one roll (keelson.dev/debounce)', async () => {
    const ns = await createNamespace(cp.client, 'burst');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'a', { k: '0' }));
    await cp.client.create(SECRETS, secret(ns, 'b', { k: '0' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true', 'keelson.dev/debounce': '4s' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'a' }, { kind: 'Secret', name: 'b' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    for (let i = 1; i <= 3; i++) {
      await setData(cp.client, ns, 'a', { k: String(i) });
      await setSecret(cp.client, ns, 'b', { k: String(i) });
      await delay(300);
    }
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    await delay(4000 + 2000);
    assert.equal(await replicaSetCount(cp.client, ns, 'web'), 2, 'one roll for the whole burst');
  });

  it('honours named lists (regex, trimmed, referenced or not) and excludes', async () => {
    const ns = await createNamespace(cp.client, 'named');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'feature-flags', { f: '1' }));
    await cp.client.create(CONFIGMAPS, configMap(ns, 'feature-skip', { f: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', {
      'configmap.reloader.stakater.com/reload': ' other , feature-.* ',
      'keelson.dev/exclude-configmaps': 'feature-skip',
    }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'feature-skip', { f: '2' });
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'feature-flags', { f: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
  });

  it('search/match rolls only for referenced configs that carry the match annotation; ignore never triggers', async () => {
    const ns = await createNamespace(cp.client, 'search');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'matched', { k: '1' }, { 'reloader.stakater.com/match': 'true' }));
    await cp.client.create(CONFIGMAPS, configMap(ns, 'unmatched', { k: '1' }));
    await cp.client.create(CONFIGMAPS, configMap(ns, 'ignored', { k: '1' }, { 'keelson.dev/ignore': 'true' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/search': 'true' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'matched' }, { kind: 'ConfigMap', name: 'unmatched' }] }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'auto', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'ignored' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await waitForReplicaSets(cp.client, ns, 'auto', 1);
    await setData(cp.client, ns, 'unmatched', { k: '2' });
    await setData(cp.client, ns, 'ignored', { k: '2' });
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
    assert.equal(await replicaSetCount(cp.client, ns, 'auto'), 1);
    await setData(cp.client, ns, 'matched', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
  });

  it('rolls for a Secret referenced through env, and opts out with keelson.dev/auto: "false"', async () => {
    const ns = await createNamespace(cp.client, 'secrets');
    await cp.client.create(SECRETS, secret(ns, 'creds', { password: SECRET_VALUES[0]! }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'secret.reloader.stakater.com/auto': 'true' }, { envFrom: [{ kind: 'Secret', name: 'creds', key: 'password' }] }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'optout', { 'keelson.dev/auto': 'false' }, { envFrom: [{ kind: 'Secret', name: 'creds', key: 'password' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await setSecret(cp.client, ns, 'creds', { password: SECRET_VALUES[1]! });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    await assertStillReplicaSets(cp.client, ns, 'optout', 1);
    const events = await eventsFor(cp.client, ns, 'web');
    for (const e of events) for (const v of SECRET_VALUES) assert.ok(!e.message.includes(v), 'no secret value in events');
  });

  it('warns about an unparsable annotation and uses the default', async () => {
    const ns = await createNamespace(cp.client, 'bad-annotation');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true', 'keelson.dev/debounce': 'soon' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    const warning = await waitForEvent(cp.client, ns, 'web', 'InvalidAnnotation');
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message, /keelson\.dev\/debounce: "soon" is not valid; expected a duration such as/);
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await setData(cp.client, ns, 'app', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
  });

  it('tolerates a missing optional config: no roll, no crash', async () => {
    const ns = await createNamespace(cp.client, 'missing');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'present', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'present' }, { kind: 'ConfigMap', name: 'absent', optional: true }] }));
    const observed = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.equal(observed['ConfigMap/absent'], '-');
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'present', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
  });

  it('does not roll when a trigger is deleted or created, by default', async () => {
    const ns = await createNamespace(cp.client, 'lifecycle-default');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'doomed', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true', 'keelson.dev/configmaps': 'later' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'doomed', optional: true }] }));
    const observed = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.equal(observed['ConfigMap/later'], '-');
    await cp.client.delete(CONFIGMAPS, ns, 'doomed');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'later', { k: '1' }));
    await assertStillReplicaSets(cp.client, ns, 'web', 1);
    const after = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.match(after['ConfigMap/doomed']!, /^-[0-9a-f]{16}$/, 'the baseline follows the deletion, keeping the digest the pods hold');
    assert.notEqual(after['ConfigMap/later'], '-', 'and the creation');
  });

  it('rolls once for a missing trigger created and then changed inside one debounce window', async () => {
    // A Deployment applied before its Secret is unsealed (baseline "-"), then the Secret is created and rotated
    // before the debounced reconcile runs. Pods may have started on the first value: the rotation must roll. The
    // 4s debounce holds the reconcile until after both events, so the interleaving is the same on every run.
    const ns = await createNamespace(cp.client, 'create-then-change');
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true', 'keelson.dev/debounce': '4s' },
      { envFrom: [{ kind: 'Secret', name: 'db', key: 'password' }] }));
    const observed = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.equal(observed['Secret/db'], '-');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await cp.client.create(SECRETS, secret(ns, 'db', { password: SECRET_VALUES[3]! }));
    await setSecret(cp.client, ns, 'db', { password: SECRET_VALUES[4]! });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    const reloaded = await waitForEvent(cp.client, ns, 'web', 'Reloaded');
    assert.match(reloaded.message, /Secret create-then-change\/db changed/);
    // Exactly once (a plain creation still does not roll: 'does not roll when a trigger is deleted or created').
    await assertStillReplicaSets(cp.client, ns, 'web', 2);
  });

  it('keeps its fields when another manager server-side-applies the workload without them', async () => {
    const ns = await createNamespace(cp.client, 'ssa');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    const manifest = deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] });
    await cp.client.apply(DEPLOYMENTS, manifest, { fieldManager: 'keelson-sync' });
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await setData(cp.client, ns, 'app', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    const hash = await configHash(cp.client, DEPLOYMENTS, ns, 'web');
    assert.ok(hash);
    // Git applies the same manifest again (with a label change): neither side strips the other's fields.
    const again = deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] });
    again.metadata.labels = { from: 'git' };
    await cp.client.apply(DEPLOYMENTS, again, { fieldManager: 'keelson-sync' });
    const d = await cp.client.get(DEPLOYMENTS, ns, 'web');
    assert.equal(templateAnnotations(d)[CONFIG_HASH], hash);
    assert.ok(d.metadata.annotations?.[OBSERVED]);
    assert.ok(d.metadata.annotations?.[LAST_RELOAD]);
    assert.equal(d.metadata.labels?.from, 'git');
    await assertStillReplicaSets(cp.client, ns, 'web', 2);
  });

  it('rolls StatefulSets and DaemonSets and tracks them to RolloutComplete', async () => {
    const ns = await createNamespace(cp.client, 'kinds');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(STATEFULSETS, statefulSet(ns, 'db', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await cp.client.create(DAEMONSETS, daemonSet(ns, 'agent', { 'keelson.dev/configmaps': 'app' }));
    await waitForObserved(cp.client, STATEFULSETS, ns, 'db');
    await waitForObserved(cp.client, DAEMONSETS, ns, 'agent');
    await eventually('StatefulSet ready', async () => ((await cp.client.get(STATEFULSETS, ns, 'db')).status as { readyReplicas?: number })?.readyReplicas === 1);
    await setData(cp.client, ns, 'app', { k: '2' });
    await eventually('StatefulSet rolled', async () => !!(await configHash(cp.client, STATEFULSETS, ns, 'db')));
    await eventually('DaemonSet rolled', async () => !!(await configHash(cp.client, DAEMONSETS, ns, 'agent')));
    await waitForEvent(cp.client, ns, 'db', 'RolloutComplete', 60_000);
    await waitForEvent(cp.client, ns, 'agent', 'RolloutComplete', 60_000);
    const gen = (await cp.client.get(STATEFULSETS, ns, 'db')).metadata.generation;
    await delay(QUIET_MS);
    assert.equal((await cp.client.get(STATEFULSETS, ns, 'db')).metadata.generation, gen, 'exactly one roll');
  });

  it('reports RolloutFailed when a Deployment exceeds its progress deadline', async () => {
    const ns = await createNamespace(cp.client, 'failing');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' },
      { image: 'example/never-ready:1', volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }, { progressDeadlineSeconds: 3 }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await setData(cp.client, ns, 'app', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    const failed = await waitForEvent(cp.client, ns, 'web', 'RolloutFailed', 60_000);
    assert.equal(failed.type, 'Warning');
    assert.match(failed.message, /ProgressDeadlineExceeded/);
    assert.ok(metricValue(await ctl.metrics(), 'keelson_rollouts_total', { kind: 'Deployment', result: 'failed' }) >= 1);
  });

  it('does not roll on restart, and rolls once for a change made while it was down', async () => {
    const ns = await createNamespace(cp.client, 'restart');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(SECRETS, secret(ns, 'creds', { token: SECRET_VALUES[2]! }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }], envFrom: [{ kind: 'Secret', name: 'creds', key: 'token' }] }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'quiet', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'Secret', name: 'creds' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'quiet');
    logs.push(ctl.logText());
    await ctl.stop();
    await setData(cp.client, ns, 'app', { k: '2' });
    await setData(cp.client, ns, 'app', { k: '3' });
    ctl = await startController(cp, ['--disable-sealing', '--disable-gitsync']);
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    await assertStillReplicaSets(cp.client, ns, 'web', 2);
    assert.equal(await replicaSetCount(cp.client, ns, 'quiet'), 1, 'an unchanged workload does not roll on restart');
    // Every earlier namespace's workloads: a restart rolled none of them.
    assert.equal(metricValue(await ctl.metrics(), 'keelson_reloads_total', { result: 'rolled' }), 1);
  });

  it('never logs a Secret value', () => {
    const text = logs.join('\n') + '\n' + ctl.logText();
    assert.ok(text.length > 0);
    for (const v of SECRET_VALUES) assert.ok(!text.includes(v), `a secret value appeared in the logs`);
  });
});

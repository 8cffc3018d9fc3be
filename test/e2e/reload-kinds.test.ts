// Reload parity on the real control plane (1.20, which serves CronJob only as batch/v1beta1): a CronJob gets one
// Job from its jobTemplate, a Job is re-created, an Argo Rollout (CRD only, no Argo controller) gets its pod
// template or spec.restartAt written, a pause-period Deployment is resumed on time by a restarted controller, and
// the Reloader flags --resources-to-ignore / --ignored-workload-types. Exactly-once is checked with the state a crash
// between the two steps of a roll leaves (made on purpose: the CronJob's baseline put back after its Job was created;
// a Job re-created by a controller that may not delete the old one), across a restart, and with two replicas acting
// at once (no leader election).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { CRDS, CRONJOBS_V1BETA1, JOBS, ROLLOUTS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { delay, eventually } from '../support/wait.js';
import {
  CONFIGMAPS, CONFIG_HASH, DEPLOYMENTS, LAST_RELOAD, OBSERVED, QUIET_MS, SECRETS, configMap, createNamespace, deployment, podTemplate, replicaSetCount,
  secret, setData, setSecret, templateAnnotations, waitForEvent, waitForObserved, waitForReplicaSets,
} from './reload-support.js';

const ROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true } as const;
const ROLEBINDINGS = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true } as const;
const FLAGS = ['--disable-sealing', '--disable-gitsync', '--argo-rollouts'];
const NEVER = '0 0 1 1 *'; // the CronJob controller is not running anyway; a schedule that would not fire

const jobPod = (app: string, cm: string): Record<string, unknown> => {
  const t = podTemplate(app, { volumesFrom: [{ kind: 'ConfigMap', name: cm }] }) as { spec: Record<string, unknown> };
  t.spec.restartPolicy = 'Never';
  return t;
};

const cronJob = (ns: string, name: string, annotations: Record<string, string>, cm: string): KubeObject => ({
  apiVersion: 'batch/v1beta1', kind: 'CronJob', metadata: { name, namespace: ns, annotations },
  spec: { schedule: NEVER, jobTemplate: { metadata: { labels: { from: name } }, spec: { template: jobPod(name, cm) } } },
});

const job = (ns: string, name: string, annotations: Record<string, string>, cm: string): KubeObject => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns, annotations, labels: { team: 'a' } },
  spec: { backoffLimit: 1, template: jobPod(name, cm) },
});

const rollout = (ns: string, name: string, annotations: Record<string, string>, cm: string): KubeObject => ({
  apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name, namespace: ns, annotations },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: podTemplate(name, { volumesFrom: [{ kind: 'ConfigMap', name: cm }] }) },
});

async function jobsOf(cp: ControlPlane, ns: string, cronJobName: string): Promise<KubeObject[]> {
  return (await cp.client.list(JOBS, { namespace: ns })).items.filter((j) => j.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === cronJobName));
}

const jobNames = async (cp: ControlPlane, ns: string): Promise<string[]> => (await cp.client.list(JOBS, { namespace: ns })).items.filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.name!).sort();

describe('reload: CronJob, Job, Argo Rollout, pause-period, Reloader flags', () => {
  let cp: ControlPlane;
  let ctl: RunningController | undefined;

  before(async () => {
    cp = await startControlPlane({ controllerManager: ['deployment', 'replicaset', 'garbagecollector', 'namespace'], users: { limited: [] } });
    const crd = parse(readFileSync(new URL('../fixtures/argo-rollouts/crd-rollouts.yaml', import.meta.url), 'utf8')) as KubeObject;
    await cp.client.apply(CRDS, crd, { fieldManager: 'keelson-test', force: true });
    await eventually('the Rollout CRD to be Established', async () => {
      const c = await cp.client.get(CRDS, undefined, 'rollouts.argoproj.io');
      return ((c.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True');
    });
  });
  after(async () => {
    await ctl?.stop();
    await cp?.stop();
  });

  it('CronJob (batch/v1beta1 by discovery): one Job from the jobTemplate per change, also across a restart and with two replicas', async () => {
    const ns = await createNamespace(cp.client, 'cron');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'cfg', { k: '1' }));
    await cp.client.create(CRONJOBS_V1BETA1, cronJob(ns, 'nightly', { 'reloader.stakater.com/auto': 'true' }, 'cfg'));
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    assert.ok(ctl.logText().includes('CronJob batch/v1beta1'), 'CronJob chosen as batch/v1beta1 by discovery');
    await waitForObserved(cp.client, CRONJOBS_V1BETA1, ns, 'nightly');
    assert.equal((await jobsOf(cp, ns, 'nightly')).length, 0, 'first sight records a baseline, creates no Job');
    const beforeRoll = (await cp.client.get(CRONJOBS_V1BETA1, ns, 'nightly')).metadata.annotations!;

    await setData(cp.client, ns, 'cfg', { k: '2' });
    const [first] = await eventually('a Job from the CronJob', async () => { const j = await jobsOf(cp, ns, 'nightly'); return j.length > 0 ? j : undefined; });
    assert.equal(first!.metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(first!.metadata.labels?.from, 'nightly', 'the jobTemplate labels');
    assert.ok(first!.metadata.name!.startsWith('nightly-') && first!.metadata.name!.length <= 63);
    const owner = first!.metadata.ownerReferences![0]!;
    assert.deepEqual([owner.apiVersion, owner.kind, owner.controller], ['batch/v1beta1', 'CronJob', true]);
    assert.match((await waitForEvent(cp.client, ns, 'nightly', 'Reloaded')).message, new RegExp(`ConfigMap cron/cfg changed.*created Job cron/${first!.metadata.name}`));
    assert.equal(metricValue(await ctl.metrics(), 'keelson_reloads_total', { kind: 'CronJob', namespace: ns, result: 'rolled' }), 1);

    // The crash window: the Job created, the baseline not yet recorded. A restarted controller derives the same name.
    await ctl.stop();
    const afterRoll = (await cp.client.get(CRONJOBS_V1BETA1, ns, 'nightly')).metadata.annotations!;
    await cp.client.patch(CRONJOBS_V1BETA1, ns, 'nightly', 'merge', { metadata: { annotations: { [OBSERVED]: beforeRoll[OBSERVED], [LAST_RELOAD]: beforeRoll[LAST_RELOAD] ?? null } } });
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    await eventually('the baseline recorded again', async () => (await cp.client.get(CRONJOBS_V1BETA1, ns, 'nightly')).metadata.annotations?.[OBSERVED] === afterRoll[OBSERVED]);
    await delay(QUIET_MS);
    assert.deepEqual((await jobsOf(cp, ns, 'nightly')).map((j) => j.metadata.name), [first!.metadata.name], 'the same Job, not a second one');

    // Changed while down, then two replicas at once: both derive the same Job name; the second create is AlreadyExists.
    await ctl.stop();
    await setData(cp.client, ns, 'cfg', { k: '3' });
    const [a, b] = await Promise.all([startController(cp, [...FLAGS, '--namespaces', ns]), startController(cp, [...FLAGS, '--namespaces', ns])]);
    try {
      await eventually('a second Job', async () => (await jobsOf(cp, ns, 'nightly')).length >= 2);
      await delay(QUIET_MS);
      assert.equal((await jobsOf(cp, ns, 'nightly')).length, 2, 'exactly one Job for the change, with two replicas acting');
    } finally { await Promise.all([a!.stop(), b!.stop()]); }
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    await delay(QUIET_MS);
    assert.equal((await jobsOf(cp, ns, 'nightly')).length, 2, 'a restart creates nothing');
    await ctl.stop();
    ctl = undefined;
  });

  it('Job: re-created once (new first, old deleted) only when annotated for reload; twice-started replicas do not double it', async () => {
    const ns = await createNamespace(cp.client, 'jobs');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'cfg', { k: '1' }));
    await cp.client.create(JOBS, job(ns, 'migrate', { 'keelson.dev/auto': 'true' }, 'cfg'));
    await cp.client.create(JOBS, job(ns, 'plain', {}, 'cfg'));
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns, '--auto-reload-all']);
    const old = await cp.client.get(JOBS, ns, 'migrate');
    await waitForObserved(cp.client, JOBS, ns, 'migrate');

    await setData(cp.client, ns, 'cfg', { k: '2' });
    const names = await eventually('the Job re-created', async () => { const n = await jobNames(cp, ns); return n.length === 2 && !n.includes('migrate') ? n : undefined; });
    const newName = names.find((n) => n.startsWith('migrate-'))!;
    assert.deepEqual(names, [newName, 'plain'].sort(), 'the un-annotated Job is left alone, even with --auto-reload-all');
    const fresh = await cp.client.get(JOBS, ns, newName);
    const a = fresh.metadata.annotations ?? {};
    assert.equal(a['keelson.dev/recreated-from'], old.metadata.uid);
    assert.equal(a['keelson.dev/job-name'], 'migrate');
    assert.equal(fresh.metadata.labels?.team, 'a');
    assert.notEqual((fresh.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['controller-uid'], old.metadata.uid, 'a fresh selector');
    assert.match(templateAnnotations(fresh)[CONFIG_HASH] ?? '', /^h1:/);
    assert.ok(a[OBSERVED], 'the new Job carries its baseline: it is not re-created again');
    await waitForEvent(cp.client, ns, newName, 'Reloaded');

    await ctl.stop();
    await setData(cp.client, ns, 'cfg', { k: '3' });
    const [r1, r2] = await Promise.all([startController(cp, [...FLAGS, '--namespaces', ns]), startController(cp, [...FLAGS, '--namespaces', ns])]);
    try {
      const again = await eventually('the Job re-created again', async () => { const n = await jobNames(cp, ns); return n.length === 2 && !n.includes(newName) ? n : undefined; });
      await delay(QUIET_MS);
      assert.deepEqual(await jobNames(cp, ns), again, 'exactly one new Job, with two replicas acting');
      assert.ok(again.some((n) => n.startsWith('migrate-') && n.length === 'migrate-'.length + 10), 'named from the chain\'s base name, not growing');
    } finally { await Promise.all([r1!.stop(), r2!.stop()]); }
    ctl = undefined;
  });

  it('Job: a crash between creating the new Job and deleting the old one is finished by the next controller, once', async () => {
    const ns = await createNamespace(cp.client, 'jobs-crash');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'cfg', { k: '1' }));
    await cp.client.create(JOBS, job(ns, 'seed', { 'keelson.dev/auto': 'true' }, 'cfg'));
    // A controller that may create Jobs but not delete them stops exactly in the crash window.
    await cp.client.create(ROLES, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-delete', namespace: ns },
      rules: [
        { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'patch', 'create'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    });
    await cp.client.create(ROLES, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'digest-key', namespace: 'keelson-system' },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['keelson-digest-key'], verbs: ['get'] }],
    });
    for (const [role, where] of [['no-delete', ns], ['digest-key', 'keelson-system']]) {
      await cp.client.create(ROLEBINDINGS, {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: role, namespace: where },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects: [{ kind: 'User', name: 'limited', apiGroup: 'rbac.authorization.k8s.io' }],
      });
    }
    const seed = await cp.client.get(JOBS, ns, 'seed');
    const limited = await startController(cp, [...FLAGS, '--kubeconfig', cp.userKubeConfigPath('limited'), '--namespaces', ns]);
    let created: string;
    try {
      await waitForObserved(cp.client, JOBS, ns, 'seed');
      await setData(cp.client, ns, 'cfg', { k: '2' });
      created = await eventually('the new Job created', async () => (await jobNames(cp, ns)).find((n) => n.startsWith('seed-')));
    } finally { await limited.stop(); }
    assert.deepEqual(await jobNames(cp, ns), [created, 'seed'].sort(), 'both Jobs: the crash window');
    assert.equal((await cp.client.get(JOBS, ns, created)).metadata.annotations?.['keelson.dev/recreated-from'], seed.metadata.uid);
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    await eventually('the old Job deleted', async () => !(await jobNames(cp, ns)).includes('seed'));
    await delay(QUIET_MS);
    assert.deepEqual(await jobNames(cp, ns), [created], 'no second re-creation');
    await ctl.stop();
    ctl = undefined;
  });

  it('Argo Rollout: the pod template by default; rollout-strategy restart sets spec.restartAt', async () => {
    const ns = await createNamespace(cp.client, 'argo');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'cfg', { k: '1' }));
    await cp.client.create(ROLLOUTS, rollout(ns, 'canary', { 'keelson.dev/auto': 'true' }, 'cfg'));
    await cp.client.create(ROLLOUTS, rollout(ns, 'restarted', { 'reloader.stakater.com/auto': 'true', 'reloader.stakater.com/rollout-strategy': 'restart' }, 'cfg'));
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    await waitForObserved(cp.client, ROLLOUTS, ns, 'canary');
    await waitForObserved(cp.client, ROLLOUTS, ns, 'restarted');
    await setData(cp.client, ns, 'cfg', { k: '2' });
    const canary = await eventually('the Rollout pod template hash', async () => { const r = await cp.client.get(ROLLOUTS, ns, 'canary'); return templateAnnotations(r)[CONFIG_HASH] ? r : undefined; });
    assert.equal((canary.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers.length, 1, 'the containers are untouched');
    const restarted = await eventually('spec.restartAt', async () => { const r = await cp.client.get(ROLLOUTS, ns, 'restarted'); return (r.spec as { restartAt?: string }).restartAt ? r : undefined; });
    assert.ok(Date.parse((restarted.spec as { restartAt: string }).restartAt) > Date.now() - 60_000);
    assert.equal(templateAnnotations(restarted)[CONFIG_HASH], undefined, 'restart does not touch the pod template');
    await waitForEvent(cp.client, ns, 'restarted', 'Reloaded');
    await ctl.stop();
    ctl = undefined;
  });

  it('pause-period: written paused with the resume time on the Deployment; a controller restarted mid-pause resumes it on time', async () => {
    const ns = await createNamespace(cp.client, 'pause');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'cfg', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true', 'deployment.reloader.stakater.com/pause-period': '8s' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'cfg' }] }));
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await setData(cp.client, ns, 'cfg', { k: '2' });
    const paused = await eventually('the Deployment paused', async () => { const d = await cp.client.get(DEPLOYMENTS, ns, 'web'); return (d.spec as { paused?: boolean }).paused ? d : undefined; });
    const until = Date.parse(paused.metadata.annotations!['keelson.dev/paused-until']!);
    assert.ok(until > Date.now(), 'the resume time is ahead');
    assert.ok(templateAnnotations(paused)[CONFIG_HASH], 'the roll is written, paused');
    await ctl.stop();
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns]);
    assert.equal(await replicaSetCount(cp.client, ns, 'web'), 1, 'nothing rolled out during the pause');
    await eventually('the Deployment resumed', async () => !(((await cp.client.get(DEPLOYMENTS, ns, 'web')).spec as { paused?: boolean }).paused), 30_000);
    assert.ok(Date.now() >= until - 1000, 'not resumed before its time');
    const resumed = await cp.client.get(DEPLOYMENTS, ns, 'web');
    assert.equal(resumed.metadata.annotations?.['keelson.dev/paused-until'], undefined);
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    await waitForEvent(cp.client, ns, 'web', 'Resumed');
    await ctl.stop();
    ctl = undefined;
  });

  it('--resources-to-ignore=secrets and --ignored-workload-types=cronjobs', async () => {
    const ns = await createNamespace(cp.client, 'flags');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'cfg', { k: '1' }));
    await cp.client.create(SECRETS, secret(ns, 'creds', { p: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'cfg' }, { kind: 'Secret', name: 'creds' }] }));
    await cp.client.create(CRONJOBS_V1BETA1, cronJob(ns, 'nightly', { 'keelson.dev/auto': 'true' }, 'cfg'));
    ctl = await startController(cp, [...FLAGS, '--namespaces', ns, '--resources-to-ignore=secrets', '--ignored-workload-types', 'cronjobs,jobs']);
    const configs = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.deepEqual(Object.keys(configs), ['ConfigMap/cfg'], 'Secrets are not triggers');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    await setSecret(cp.client, ns, 'creds', { p: '2' });
    await delay(QUIET_MS);
    assert.equal(await replicaSetCount(cp.client, ns, 'web'), 1, 'a Secret change does not roll');
    await setData(cp.client, ns, 'cfg', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    assert.equal((await cp.client.get(CRONJOBS_V1BETA1, ns, 'nightly')).metadata.annotations?.[OBSERVED], undefined, 'CronJobs are not watched');
    assert.equal((await jobsOf(cp, ns, 'nightly')).length, 0);
    await ctl.stop();
    ctl = undefined;
  });
});

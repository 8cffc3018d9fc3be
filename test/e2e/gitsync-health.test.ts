// GitSync health checks and ordering on the real control plane with kube-controller-manager and the stand-in
// kubelet: spec.wait keeps a GitSync Reconciling until its Deployment is available (Ready after, not before);
// pods that never become ready give HealthCheckFailed naming the Deployment, at spec.timeout or at once on
// ProgressDeadlineExceeded; a controller restart keeps the wait's deadline; spec.dependsOn holds B until A is Ready
// (requeued by the index, not polling); a cycle is reported.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIGMAPS, DEPLOYMENTS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, runCli, createNamespace, eventsFor, gitSyncStatus, installGitSyncCrd, letServiceAccountsApply, ready, waitApplied } from '../support/gitsync-fixture.js';
import { delay, eventually } from '../support/wait.js';

const deployment = (name: string, image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
${extra}  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: c
          image: ${image}
`;
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;
const condition = (st: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] }, type: string) => st.conditions?.find((c) => c.type === type);

describe('gitsync: health checks and dependsOn', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let kubelet: FakeKubelet | undefined;
  let cache: string;
  let controllerFlags: string[] = [];

  before(async () => {
    [cp, servers] = await Promise.all([startControlPlane({ controllerManager: true }), startGitServers()]);
    await Promise.all([letServiceAccountsApply(cp.client), installGitSyncCrd(cp.client)]);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    controllerFlags = ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git'];
    ctl = await startController(cp, controllerFlags);
  });
  after(async () => {
    await ctl?.stop();
    await kubelet?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('with wait, stays Reconciling until the Deployment is available, then Ready', async () => {
    // No kubelet yet: the pods cannot run, so the wait is observable; then the kubelet lets them.
    const ns = await createNamespace(cp.client, 'wait-ok');
    // Five ConfigMaps: read with one LIST by the owner labels (more than four of a kind), the Deployment with a GET.
    const configs = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`cm-${i}.yaml`, cm(`cm-${i}`)]));
    const sha = servers.repo('wait-ok').write({ 'web.yaml': deployment('web', 'nginx:1'), ...configs }).commit('web');
    const rev = `main@sha1:${sha}`;
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('wait-ok'), wait: true, timeout: '5m', interval: '1h' });
    const waiting = await eventually('the GitSync to wait for its Deployment', async () => {
      const st = await gitSyncStatus(cp.client, ns, 'app');
      return st.lastAppliedRevision === rev && condition(st, 'Reconciling')?.status === 'True' ? st : undefined;
    }, 60_000);
    assert.notEqual(ready(waiting).status, 'True');
    assert.match(ready(waiting).message ?? '', new RegExp(`waiting for 1 of 6 objects to become healthy: Deployment ${ns}/web: `));
    assert.ok(waiting.healthCheckStartedAt, 'the start of the wait is in status');
    assert.equal(waiting.lastHealthyRevision, undefined);
    assert.ok(await cp.client.tryGet(DEPLOYMENTS, ns, 'web'), 'applied before waiting');

    // `keelson sync` follows the wait and reports the outcome once the objects are healthy.
    const sync = runCli(['sync', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath]);
    await eventually('the sync request handled, still waiting', async () => {
      const s = await gitSyncStatus(cp.client, ns, 'app');
      return s.lastHandledRequestedAt !== undefined && condition(s, 'Reconciling')?.status === 'True';
    });
    kubelet = await startFakeKubelet(cp.client);
    const out = await sync;
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /◎ applied revision .*; waiting for 1 of 6 objects/);
    assert.match(out.stdout, /✔ applied revision .*; 6 objects healthy/);
    const st = await eventually('Ready after the Deployment is available', async () => {
      const s = await gitSyncStatus(cp.client, ns, 'app');
      return ready(s).status === 'True' ? s : undefined;
    }, 60_000);
    const d = await cp.client.get(DEPLOYMENTS, ns, 'web');
    assert.equal((d.status as { availableReplicas?: number }).availableReplicas, 1, 'Ready only once the Deployment is available');
    assert.equal(st.lastHealthyRevision, rev);
    assert.equal(condition(st, 'Reconciling'), undefined);
    assert.equal(st.healthCheckStartedAt, undefined);
    assert.match(ready(st).message ?? '', /6 objects healthy/);
  });

  it('reports HealthCheckFailed naming the Deployment: at spec.timeout, or at once on ProgressDeadlineExceeded', async () => {
    assert.ok(kubelet, 'runs after the first test started the kubelet');
    const ns = await createNamespace(cp.client, 'wait-bad');
    const repo = servers.repo('wait-bad');
    repo.write({
      'slow/web.yaml': deployment('web', 'example/never-ready:1'),
      'dead/api.yaml': deployment('api', 'example/never-ready:1', '  progressDeadlineSeconds: 3\n'),
    }).commit('never ready');
    const started = Date.now();
    await createGitSync(cp.client, ns, 'slow', { url: servers.daemonUrl('wait-bad'), path: 'slow', wait: true, timeout: '8s', interval: '1h' });
    await createGitSync(cp.client, ns, 'dead', { url: servers.daemonUrl('wait-bad'), path: 'dead', healthChecks: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }], timeout: '5m', interval: '1h' });
    const failed = async (name: string) => eventually(`GitSync ${name} HealthCheckFailed`, async () => {
      const r = ready(await gitSyncStatus(cp.client, ns, name));
      return r.status === 'False' && r.reason === 'HealthCheckFailed' ? { ...r, at: Date.now() } : undefined;
    }, 90_000, 250);
    const [slow, dead] = await Promise.all([failed('slow'), failed('dead')]);
    assert.match(slow.message ?? '', new RegExp(`health check failed after \\d+s \\(spec.timeout 8s\\): Deployment ${ns}/web: 0 of 1 updated replicas available`));
    assert.ok(slow.at - started >= 8_000, 'not before the timeout');
    assert.match(dead.message ?? '', new RegExp(`health check failed: Deployment ${ns}/api: 1 of 1 replicas unavailable, ProgressDeadlineExceeded`));
    assert.ok(dead.at - started < 120_000, 'long before its 5m timeout');
    const st = await gitSyncStatus(cp.client, ns, 'slow');
    assert.equal(st.lastHealthyRevision, undefined);
    assert.equal(st.healthCheckStartedAt, undefined, 'the wait ended');
    const events = await eventsFor(cp.client, ns, 'slow');
    assert.ok(events.some((e) => e.reason === 'HealthCheckFailed' && e.type === 'Warning'));
  });

  it('a controller restart keeps the wait\'s deadline (its start is in status)', async () => {
    const ns = await createNamespace(cp.client, 'wait-restart');
    servers.repo('wait-restart').write({ 'web.yaml': deployment('web', 'example/never-ready:1') }).commit('never ready');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('wait-restart'), wait: true, timeout: '10s', interval: '1h' });
    const started = await eventually('the wait to start', async () => (await gitSyncStatus(cp.client, ns, 'app')).healthCheckStartedAt ?? undefined);
    await ctl.stop();
    await delay(Math.max(0, Date.parse(started) + 12_000 - Date.now()));
    ctl = await startController(cp, controllerFlags);
    const r = await eventually('HealthCheckFailed after the restart', async () => {
      const x = ready(await gitSyncStatus(cp.client, ns, 'app'));
      return x.reason === 'HealthCheckFailed' ? x : undefined;
    }, 30_000);
    const after = Number(/health check failed after (\d+)s/.exec(r.message ?? '')?.[1]);
    assert.ok(after >= 12, `measured from the recorded start, not from the restart: ${r.message}`);
  });

  it('dependsOn: B waits for A, applies once A is Ready; a cycle is reported', async () => {
    const ns = await createNamespace(cp.client, 'order');
    const a = servers.repo('order-a');
    const shaA = a.write({ 'web.yaml': deployment('infra', 'nginx:1') }).commit('a');
    const shaB = servers.repo('order-b').write({ 'b.yaml': cm('b-config') }).commit('b');
    // B first, with a long interval: only the dependency index can bring it back quickly.
    await createGitSync(cp.client, ns, 'b', { url: servers.daemonUrl('order-b'), dependsOn: [{ name: 'a' }], interval: '1h' });
    const blocked = await eventually('B to wait for A', async () => {
      const r = ready(await gitSyncStatus(cp.client, ns, 'b'));
      return r.reason === 'DependencyNotReady' ? r : undefined;
    });
    assert.equal(blocked.status, 'False');
    assert.match(blocked.message ?? '', /dependency a not found/);
    assert.equal(await cp.client.tryGet(CONFIGMAPS, ns, 'b-config'), undefined, 'nothing applied while blocked');

    await createGitSync(cp.client, ns, 'a', { url: servers.daemonUrl('order-a'), wait: true, timeout: '2m', interval: '1h' });
    const stA = await waitApplied(cp.client, ns, 'a', `main@sha1:${shaA}`, 60_000);
    const stB = await waitApplied(cp.client, ns, 'b', `main@sha1:${shaB}`, 30_000);
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'b-config'));
    const aReady = Date.parse(condition(stA, 'Ready')!.lastTransitionTime!);
    const bReady = Date.parse(condition(stB, 'Ready')!.lastTransitionTime!);
    assert.ok(bReady >= aReady, `B Ready (${condition(stB, 'Ready')!.lastTransitionTime}) not before A (${condition(stA, 'Ready')!.lastTransitionTime})`);

    servers.repo('order-c').write({ 'c.yaml': cm('c-config') }).commit('c');
    await createGitSync(cp.client, ns, 'c', { url: servers.daemonUrl('order-c'), dependsOn: [{ name: 'd' }], interval: '1h' });
    await createGitSync(cp.client, ns, 'd', { url: servers.daemonUrl('order-c'), dependsOn: [{ name: 'c' }], interval: '1h' });
    for (const [name, cycle] of [['c', 'c → d → c'], ['d', 'd → c → d']] as const) {
      const st = await eventually(`${name} to report the cycle`, async () => {
        const s = await gitSyncStatus(cp.client, ns, name);
        return (ready(s).message ?? '').startsWith('dependency cycle') ? s : undefined;
      });
      assert.equal(ready(st).status, 'False');
      assert.equal(ready(st).reason, 'DependencyNotReady');
      assert.match(ready(st).message ?? '', new RegExp(`^dependency cycle: ${cycle};`));
      assert.equal(condition(st, 'Stalled')?.status, 'True');
    }
    assert.equal(await cp.client.tryGet(CONFIGMAPS, ns, 'c-config'), undefined);
  });
});

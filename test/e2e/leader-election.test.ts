// High availability against the real control plane: two and three controllers elect exactly one leader through a
// coordination.k8s.io/v1 Lease; a stopped leader releases it so a standby takes over at once; a leader killed with
// SIGKILL is replaced once its lease expires; SIGTERM exits 0 within 10 s and releases the Lease.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LEASES, NAMESPACES } from '../../src/kube/resources.js';
import { type LeaseRecord, recordOf } from '../../src/kube/lease-decision.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { delay, eventually } from '../support/wait.js';
import { freePort } from '../support/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'keelson-system';
// Short timings so failover takes seconds; lease > renew deadline > retry period as the flags require.
const TIMINGS = ['--leader-election-lease-duration', '3s', '--leader-election-renew-deadline', '2s', '--leader-election-retry-period', '500ms'];
// Election only: the features have their own tests (and CRDs this control plane does not install).
const NO_FEATURES = ['--disable-reload', '--disable-sealing', '--disable-gitsync', '--disable-images'];
const flags = (id: string) => ['--leader-elect', '--leader-election-id', id, ...TIMINGS, ...NO_FEATURES];

describe('leader election', () => {
  let cp: ControlPlane;
  const running: RunningController[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    // The SIGKILL/SIGTERM cases run the real bin/keelson.js, which loads dist/: make sure it is current.
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    cp = await startControlPlane({ users: { 'lease-user': [] } });
    await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(running.map((c) => c.stop().catch(() => undefined)));
    await cp?.stop();
  });

  const lease = async (id: string): Promise<LeaseRecord | undefined> => {
    const l = await cp.client.tryGet(LEASES, NS, id);
    return l ? recordOf(l.spec) : undefined;
  };

  const start = async (id: string, pod: string): Promise<RunningController> => {
    const c = await startController(cp, flags(id), { POD_NAME: pod });
    running.push(c);
    return c;
  };

  /** Waits until exactly one of these is leader by its keelson_leader metric and holds the Lease; returns its index. */
  const oneLeader = async (id: string, cs: readonly RunningController[], pods: readonly string[]): Promise<number> => {
    return await eventually(`exactly one leader for ${id}`, async () => {
      const values = await Promise.all(cs.map(async (c) => metricValue(await c.metrics(), 'keelson_leader')));
      const leaders = values.flatMap((v, i) => (v === 1 ? [i] : []));
      if (leaders.length !== 1) return undefined;
      const i = leaders[0]!;
      const holder = (await lease(id))?.holderIdentity ?? '';
      return holder.startsWith(`${pods[i]}_`) && cs[i]!.manager.isLeader ? i : undefined;
    }, 20_000);
  };

  /** Samples for longer than one lease duration that never more than one replica acts as leader. */
  const neverTwoLeaders = async (cs: readonly RunningController[], ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const n = cs.filter((c) => c.manager.isLeader).length;
      assert.ok(n <= 1, `${n} replicas lead at once`);
      await delay(50);
    }
  };

  it('two controllers: one leads, the other stands by and is ready; stopping the leader hands over at once', async () => {
    const id = 'two';
    const pods = ['two-a', 'two-b'];
    const cs = [await start(id, pods[0]!), await start(id, pods[1]!)];
    const leader = await oneLeader(id, cs, pods);
    const standby = 1 - leader;
    await neverTwoLeaders(cs, 4_000);
    assert.equal(await oneLeader(id, cs, pods), leader, 'leadership stays put while the leader renews');

    const ready = await fetch(`${cs[standby]!.httpUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), /standby/);
    assert.equal((await fetch(`${cs[standby]!.httpUrl}/healthz`)).status, 200);

    const before = (await lease(id))!;
    assert.equal(before.leaseDurationSeconds, 3);
    assert.match(before.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime');
    assert.match(before.acquireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'acquireTime is a MicroTime');

    await cs[leader]!.stop();
    // Right after stop the Lease is released (or already taken by the standby): no waiting for expiry.
    const released = (await lease(id))!;
    assert.ok(released.holderIdentity === '' || released.holderIdentity.startsWith(`${pods[standby]}_`), `holder after release: ${released.holderIdentity}`);
    if (released.holderIdentity === '') assert.equal(released.leaseDurationSeconds, 1);

    await eventually('the standby to lead', async () => cs[standby]!.manager.isLeader && metricValue(await cs[standby]!.metrics(), 'keelson_leader') === 1);
    const after = (await lease(id))!;
    assert.ok(after.holderIdentity.startsWith(`${pods[standby]}_`));
    assert.equal(after.leaseTransitions, before.leaseTransitions + 1, 'the handover counts one transition');
    await cs[standby]!.stop();
    assert.equal((await lease(id))!.holderIdentity, '', 'the last leader released too');
  });

  it('three controllers: exactly one leader at a time through two successive failovers', async () => {
    const id = 'three';
    const pods = ['three-a', 'three-b', 'three-c'];
    const cs = await Promise.all(pods.map((p) => start(id, p)));
    let alive = [0, 1, 2];
    for (let round = 0; round < 2; round++) {
      const live = alive.map((i) => cs[i]!);
      const idx = await oneLeader(id, live, alive.map((i) => pods[i]!));
      await neverTwoLeaders(live, 3_500);
      const leader = alive[idx]!;
      const transitions = (await lease(id))!.leaseTransitions;
      await cs[leader]!.stop();
      alive = alive.filter((i) => i !== leader);
      const next = await oneLeader(id, alive.map((i) => cs[i]!), alive.map((i) => pods[i]!));
      assert.ok(alive[next] !== undefined);
      assert.equal((await lease(id))!.leaseTransitions, transitions + 1);
    }
    assert.equal(alive.length, 1);
    await cs[alive[0]!]!.stop();
  });

  it('a leader whose Lease is taken by someone else stops leading at once', async () => {
    const id = 'intruder';
    const c = await start(id, 'usurped');
    await eventually('usurped to lead', () => c.manager.isLeader);
    const l = await cp.client.get(LEASES, NS, id);
    await cp.client.replace(LEASES, { ...l, spec: { ...(l.spec as object), holderIdentity: 'intruder', leaseDurationSeconds: 3600 } });
    await eventually('usurped to stop leading', async () => !c.manager.isLeader && metricValue(await c.metrics(), 'keelson_leader') === 0, 10_000);
    assert.ok(c.logText().includes('the lease is no longer ours'));
    await c.stop();
    assert.equal((await lease(id))!.holderIdentity, 'intruder', 'a replica that lost the lease does not release it');
  });

  /** `node bin/keelson.js controller` as a real child process, its output kept for failure messages. */
  const spawnController = async (id: string, pod: string) => {
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [
      'bin/keelson.js', 'controller', '--kubeconfig', cp.kubeconfigPath, '--controller-namespace', NS,
      '--http-addr', '127.0.0.1:0', '--metrics-addr', `127.0.0.1:${metricsPort}`, ...flags(id),
    ], { cwd: ROOT, env: { ...process.env, POD_NAME: pod }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => { output += String(d); });
    child.stderr!.on('data', (d) => { output += String(d); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await eventually(`child ${pod} to lead`, async () => {
      if (child.exitCode !== null) throw new Error(`child exited ${child.exitCode}:\n${output}`);
      const holder = (await lease(id))?.holderIdentity ?? '';
      if (!holder.startsWith(`${pod}_`)) return false;
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return metricValue(text, 'keelson_leader') === 1;
    }, 30_000);
    return { child, exited, output: () => output };
  };

  it('a leader killed with SIGKILL is replaced once its lease expires', async () => {
    const id = 'sigkill';
    const { child, exited } = await spawnController(id, 'killed');
    const standby = await start(id, 'survivor');
    await delay(1_000);
    assert.equal(standby.manager.isLeader, false, 'the standby waits while the child renews');
    const before = (await lease(id))!;

    child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    const orphaned = (await lease(id))!;
    assert.ok(orphaned.holderIdentity.startsWith('killed_'), 'a killed leader cannot release: the lease still names it');

    await eventually('the standby to take over the expired lease', async () => standby.manager.isLeader && metricValue(await standby.metrics(), 'keelson_leader') === 1, 20_000);
    const after = (await lease(id))!;
    assert.ok(after.holderIdentity.startsWith('survivor_'));
    assert.equal(after.leaseTransitions, before.leaseTransitions + 1);
    await standby.stop();
  });

  it('SIGTERM: the process exits 0 within 10 s and releases the Lease', async () => {
    const id = 'sigterm';
    const { child, exited, output } = await spawnController(id, 'terminated');
    child.kill('SIGTERM');
    const result = await Promise.race([exited, delay(10_000).then(() => 'timeout' as const)]);
    assert.notEqual(result, 'timeout', `still running 10 s after SIGTERM:\n${output()}`);
    assert.deepEqual(result, { code: 0, signal: null }, output());
    const l = (await lease(id))!;
    assert.equal(l.holderIdentity, '');
    assert.equal(l.leaseDurationSeconds, 1);
    assert.match(output(), /released the lease/);
  });

  it('a leader that cannot renew before the renew deadline gives up', async () => {
    // A user whose only rights are on Leases here; revoking them makes every renewal fail (403) until the deadline.
    const id = 'deadline';
    const rbac = (plural: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind: '', namespaced: true });
    await cp.client.create(rbac('roles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'lease-only', namespace: NS },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }] });
    await cp.client.create(rbac('rolebindings'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'lease-only', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease-only' }, subjects: [{ kind: 'User', name: 'lease-user' }] });
    const c = await startController(cp, [...flags(id), '--kubeconfig', cp.userKubeConfigPath('lease-user')], { POD_NAME: 'cut-off' });
    running.push(c);
    await eventually('cut-off to lead', () => c.manager.isLeader);
    await cp.client.delete(rbac('rolebindings'), NS, 'lease-only');
    await eventually('cut-off to give up', async () => !c.manager.isLeader && metricValue(await c.metrics(), 'keelson_leader') === 0, 20_000);
    assert.ok(c.logText().includes('could not renew the lease before the renew deadline'), 'gave up for the deadline, not for another holder');
    assert.ok(c.logText().includes('renewal failed; retrying'), 'retried within the deadline first');
    await c.stop();
  });
});

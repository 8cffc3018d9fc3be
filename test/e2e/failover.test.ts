// Exactly-once rolls across leader failover: two real controller processes with leader election; the leader is
// killed with SIGKILL after a roll, and again just after a config change it had not yet acted on. The standby
// takes over from what the cluster records, so it neither repeats a roll nor misses one.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIGMAPS, DEPLOYMENTS, LEASES, REPLICASETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { delay, eventually } from '../support/wait.js';
import { QUIET_MS, configMap, createNamespace, deployment, spawnReplica } from './reload-support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'failover';
const SYSTEM = 'keelson-system';

describe('failover: exactly-once rolls when the leader is killed', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  const children = new Map<string, ChildProcess>();

  before(async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    await createNamespace(cp.client, SYSTEM);
    await createNamespace(cp.client, NS);
    await cp.client.create(CONFIGMAPS, configMap(NS, 'app-config', { level: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(NS, 'app', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app-config' }] }));
  });
  after(async () => {
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await kubelet?.stop();
    await cp?.stop();
  });

  const start = async (pod: string) => {
    const child = await spawnReplica(ROOT, cp.kubeconfigPath, SYSTEM, pod, ['--leader-election-retry-period', '500ms', '--debounce', '500ms']);
    children.set(pod, child);
    return child;
  };
  const holder = async () => ((await cp.client.tryGet(LEASES, SYSTEM, 'keelson'))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? '';
  const leaderPod = () => eventually('a leader', async () => { const h = await holder(); return h ? h.split('_')[0] : undefined; }, 30_000);
  const replicaSets = async () => (await cp.client.list(REPLICASETS, { namespace: NS })).items.length;
  const setLevel = (level: string) => cp.client.patch(CONFIGMAPS, NS, 'app-config', 'merge', { data: { level } });

  it('a roll happens once, and the new leader does not repeat it', async () => {
    await start('alpha');
    await start('beta');
    const first = await leaderPod();
    await eventually('the baseline', async () => (await cp.client.get(DEPLOYMENTS, NS, 'app')).metadata.annotations?.['keelson.dev/observed']);
    assert.equal(await replicaSets(), 1);
    await setLevel('2');
    await eventually('one roll', async () => (await replicaSets()) === 2, 30_000);
    children.get(first!)!.kill('SIGKILL');
    const second = await eventually('the standby to take over', async () => { const p = (await holder()).split('_')[0]; return p && p !== first ? p : undefined; }, 30_000);
    assert.notEqual(second, first);
    await delay(QUIET_MS);
    assert.equal(await replicaSets(), 2, 'the new leader did not roll again');
  });

  it('a change the killed leader never acted on is rolled once by its successor', async () => {
    const current = (await holder()).split('_')[0]!;
    const generation = (await cp.client.get(DEPLOYMENTS, NS, 'app')).metadata.generation;
    // Kill first, then change: the only replica that can roll is one that has not seen the change happen live.
    children.get(current)!.kill('SIGKILL');
    await setLevel('3');
    await start('gamma');
    await eventually('a new leader', async () => { const p = (await holder()).split('_')[0]; return p && p !== current; }, 30_000);
    await eventually('the missed change to roll', async () => (await replicaSets()) === 3, 30_000);
    await delay(QUIET_MS);
    assert.equal(await replicaSets(), 3, 'exactly one roll for the missed change');
    assert.equal((await cp.client.get(DEPLOYMENTS, NS, 'app')).metadata.generation, generation! + 1);
  });
});

// A standby's debounce window after failover (found by the chaos soak, seed 18): a standby hears every config
// change but never acts, so the window it opened for a change the leader rolled long ago stayed open. When it took
// over right after a ConfigMap change, it rolled at once — before the Secret changed with it reached it — and then
// rolled again for the Secret: two restarts for one change of two configs. A window older than twice the debounce
// now re-opens at the next change, so the new leader waits the workload's debounce and rolls once, to both.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIGMAPS, DEPLOYMENTS, LEASES, REPLICASETS, SECRETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { delay, eventually } from '../support/wait.js';
import { configMap, createNamespace, deployment, secret, spawnReplica } from './reload-support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'stale-window';
const SYSTEM = 'keelson-system';

describe('failover: a standby\'s stale debounce window', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  const children = new Map<string, ChildProcess>();

  before(async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    await createNamespace(cp.client, SYSTEM);
    await createNamespace(cp.client, NS);
    await cp.client.create(CONFIGMAPS, configMap(NS, 'cfg', { level: '1' }));
    await cp.client.create(SECRETS, secret(NS, 'creds', { token: 't1' }));
    await cp.client.create(DEPLOYMENTS, deployment(NS, 'app', { 'keelson.dev/auto': 'true', 'keelson.dev/debounce': '2s' },
      { volumesFrom: [{ kind: 'ConfigMap', name: 'cfg' }, { kind: 'Secret', name: 'creds' }] }));
  });
  after(async () => {
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await kubelet?.stop();
    await cp?.stop();
  });

  const start = async (pod: string) => {
    const child = await spawnReplica(ROOT, cp.kubeconfigPath, SYSTEM, pod, ['--leader-election-retry-period', '200ms']);
    children.set(pod, child);
    return child;
  };
  const holder = async () => ((await cp.client.tryGet(LEASES, SYSTEM, 'keelson'))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity?.split('_')[0] ?? '';
  const replicaSets = async () => (await cp.client.list(REPLICASETS, { namespace: NS })).items.length;

  it('the new leader waits the debounce and rolls once to both changed configs', async () => {
    await start('alpha');
    await eventually('alpha to lead', async () => (await holder()) === 'alpha', 30_000);
    await start('beta');
    await eventually('the baseline', async () => (await cp.client.get(DEPLOYMENTS, NS, 'app')).metadata.annotations?.['keelson.dev/observed']);
    // beta hears this change (its window opens) but alpha rolls it: beta's window is never closed.
    await cp.client.patch(CONFIGMAPS, NS, 'cfg', 'merge', { data: { level: '2' } });
    await eventually('alpha\'s roll', async () => (await replicaSets()) === 2, 30_000);
    await delay(5_000); // beta's window is now older than twice the 2 s debounce
    // One change of two configs, 1 s apart (inside the 2 s debounce); the leader steps down (SIGTERM releases the
    // Lease) right after the first, so beta takes over between them.
    await cp.client.patch(CONFIGMAPS, NS, 'cfg', 'merge', { data: { level: '3' } });
    const changedAt = Date.now();
    children.get('alpha')!.kill('SIGTERM');
    await eventually('beta to lead', async () => (await holder()) === 'beta', 10_000, 50);
    await delay(Math.max(0, changedAt + 1_000 - Date.now()));
    await cp.client.patch(SECRETS, NS, 'creds', 'merge', { stringData: { token: 't2' } });
    await eventually('the roll', async () => (await replicaSets()) === 3, 30_000);
    await delay(6_000);
    assert.equal(await replicaSets(), 3, 'one roll for the change of both configs, not one per config');
  });
});

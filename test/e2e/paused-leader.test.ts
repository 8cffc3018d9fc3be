// Found by the chaos soak (issue 18; `npm run soak -- --seed 20261130 --workloads 20 --minutes 5`): a leader paused
// (SIGSTOP) while a roll waited out its debounce woke after the standby had taken the Lease, and its overdue timer
// rolled the workload before its next renewal noticed the loss. The same schedule, deterministic: change, pause the
// leader inside the debounce window, wake it as soon as the standby holds the Lease. The sleeper must write nothing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ControllerProcess, spawnController } from '../../bench/support/controller-process.js';
import { CONFIGMAPS, DEPLOYMENTS, LEASES } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { delay, eventually } from '../support/wait.js';
import { configMap, createNamespace, deployment, replicaSetCount, setData } from './reload-support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'paused';
const SYSTEM = 'keelson-system';
/** Several workloads, as in the soak: more overdue rolls racing the first renewal after the wake. */
const APPS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];

describe('a paused leader that loses the Lease writes nothing when it wakes', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  const dir = mkdtempSync(join(tmpdir(), 'keelson-paused-'));
  const procs: ControllerProcess[] = [];

  before(async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    await createNamespace(cp.client, SYSTEM);
    await createNamespace(cp.client, NS);
    for (const app of APPS) {
      await cp.client.create(CONFIGMAPS, configMap(NS, `${app}-config`, { level: '1' }));
      await cp.client.create(DEPLOYMENTS, deployment(NS, app, { 'keelson.dev/auto': 'true', 'keelson.dev/debounce': '1s' }, { volumesFrom: [{ kind: 'ConfigMap', name: `${app}-config` }] }));
    }
  });
  after(async () => {
    if (process.env.KEELSON_KEEP_LOGS) console.log(`controller logs kept in ${dir}`);
    for (const p of procs) { try { process.kill(p.pid, 'SIGCONT'); } catch { /* gone */ } }
    await Promise.all(procs.map((p) => p.stop()));
    await kubelet?.stop();
    await cp?.stop();
    if (!process.env.KEELSON_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  const holder = async () => ((await cp.client.tryGet(LEASES, SYSTEM, 'keelson'))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity?.split('_')[0] ?? '';

  it('each change rolls once, by the new leader', { timeout: 120_000 }, async () => {
    for (const pod of ['alpha', 'beta']) {
      procs.push(await spawnController({
        kubeconfigPath: cp.kubeconfigPath, logFile: join(dir, `${pod}.log`), env: { POD_NAME: pod },
        flags: ['--disable-sealing', '--disable-gitsync', '--disable-images', '--leader-elect', '--leader-election-lease-duration', '3s',
          '--leader-election-renew-deadline', '2s', '--leader-election-retry-period', '500ms'],
      }));
    }
    const leaderPod = await eventually('a leader', async () => (await holder()) || undefined, 60_000);
    const leader = procs[leaderPod === 'alpha' ? 0 : 1]!;
    const standbyPod = leaderPod === 'alpha' ? 'beta' : 'alpha';
    for (const app of APPS) await eventually(`the baseline of ${app}`, async () => (await cp.client.get(DEPLOYMENTS, NS, app)).metadata.annotations?.['keelson.dev/observed'], 60_000);
    await eventually('the standby standing by', () => readFileSync(procs[leaderPod === 'alpha' ? 1 : 0]!.logFile, 'utf8').includes('lease held by another replica'), 60_000);
    for (const app of APPS) assert.equal(await replicaSetCount(cp.client, NS, app), 1);

    await Promise.all(APPS.map((app) => setData(cp.client, NS, `${app}-config`, { level: '2' })));
    await delay(700); // the leader has seen the changes; its rolls wait out the 1 s debounce, overdue when it wakes
    process.kill(leader.pid, 'SIGSTOP');
    await eventually('the standby to take the Lease', async () => (await holder()) === standbyPod || undefined, 30_000, 50);
    const wokeAt = Date.now();
    process.kill(leader.pid, 'SIGCONT');

    for (const app of APPS) await eventually(`one roll of ${app}`, async () => (await replicaSetCount(cp.client, NS, app)) === 2, 60_000);
    await delay(5000);
    for (const app of APPS) assert.equal(await replicaSetCount(cp.client, NS, app), 2, `exactly one roll of ${app}`);
    const writes = readFileSync(leader.logFile, 'utf8').split('\n').flatMap((l) => { try { return [JSON.parse(l) as { time: string; msg: string }]; } catch { return []; } })
      .filter((l) => Date.parse(l.time) >= wokeAt && /^(rolled|baseline )/.test(l.msg));
    assert.deepEqual(writes, [], 'the woken replica wrote after another replica took the Lease');
  });
});

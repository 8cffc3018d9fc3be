// The 409 path, made deterministic: the reload controller is built in-process and its Deployment cache is frozen
// (the store stopped), so its decisions come from a stale workload. The write must meet 409, reread, and roll once;
// a second reconcile from the same stale cache must find the roll done and not roll again.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadOptions } from '../../src/config/options.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import { EventRecorder } from '../../src/kube/events.js';
import { Manager } from '../../src/kube/manager.js';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { registerReload } from '../../src/reload/register.js';
import type { Reloader } from '../../src/reload/reloader.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/wait.js';
import { CONFIGMAPS, DEPLOYMENTS, OBSERVED, configMap, createNamespace, deployment, replicaSetCount, setData, waitForObserved, waitForReplicaSets } from './reload-support.js';

describe('reload conflict handling', () => {
  let cp: ControlPlane;
  let manager: Manager;
  let reloader: Reloader;
  const lines: string[] = [];
  const ns = 'conflict';

  before(async () => {
    cp = await startControlPlane({ controllerManager: ['deployment', 'replicaset'] });
    await createNamespace(cp.client, ns);
    const options = loadOptions(['--kubeconfig', cp.kubeconfigPath, '--http-addr', '127.0.0.1:0', '--metrics-addr', '0', '--namespaces', ns, '--debounce', '0', '--controller-namespace', ns], {});
    const logger = createLogger({ level: 'debug', format: 'json' }, new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    const client = new KubeClient(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }));
    manager = new Manager({ client, logger, metrics: createMetrics({ processMetrics: false }), events: new EventRecorder(client, logger), httpAddr: options.httpAddr, metricsAddr: undefined, shutdownTimeoutMs: 2000 });
    reloader = await registerReload({ manager, options, logger });
    await manager.start();
  });
  after(async () => {
    await manager?.stop();
    await cp?.stop();
  });

  it('a write from a stale cache gets 409, rereads, rolls once, and never rolls twice', async () => {
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { k: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await waitForReplicaSets(cp.client, ns, 'web', 1);
    const store = reloader.stores.group(ns)!.workloads.Deployment!;
    await eventually('the cache to hold the baseline', () => !!store.get(`${ns}/web`)?.annotations[OBSERVED]);
    await store.stop(); // frozen from here on
    await cp.client.patch(DEPLOYMENTS, ns, 'web', 'merge', { metadata: { labels: { bumped: 'by-someone-else' } } });
    await setData(cp.client, ns, 'app', { k: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    const conflicts = () => lines.filter((l) => l.includes('workload changed while writing (409)')).length;
    await eventually('the 409 to be logged', () => conflicts() >= 1);
    const generation = (await cp.client.get(DEPLOYMENTS, ns, 'web')).metadata.generation;
    // Decide again from the same stale cache: the stale write conflicts, the fresh read shows the roll done.
    const before = conflicts();
    await reloader.reconcile(`Deployment:${ns}/web`);
    await reloader.reconcile(`Deployment:${ns}/web`);
    assert.equal(conflicts(), before + 2, 'each stale decision met a 409');
    assert.equal((await cp.client.get(DEPLOYMENTS, ns, 'web')).metadata.generation, generation, 'no second roll (the pod template is unchanged)');
    assert.equal(await replicaSetCount(cp.client, ns, 'web'), 2, 'rolled exactly once');
    assert.equal((await cp.client.get(DEPLOYMENTS, ns, 'web')).metadata.labels?.bumped, 'by-someone-else', 'the other writer\'s change is kept');
  });
});

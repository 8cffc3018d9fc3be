// The controller builder's multi-primary form, as reload uses it, against a real apiserver: stores built by the
// feature as primaries with their own queue keys, a watched store whose events enqueue after a delay, and the
// readiness check and runnable declared with the controller.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import { controller } from '../../src/kube/controller-builder.js';
import { EventRecorder } from '../../src/kube/events.js';
import { Manager } from '../../src/kube/manager.js';
import { CONFIGMAPS, SECRETS } from '../../src/kube/resources.js';
import { Store } from '../../src/kube/store.js';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/wait.js';
import { configMap, createNamespace, secret, setData } from './reload-support.js';

describe('controller builder: several primaries, delayed watches, readiness', () => {
  let cp: ControlPlane;
  let manager: Manager;
  const reconciled: string[] = [];
  let keyLoaded = false;
  let ran = false;

  before(async () => {
    cp = await startControlPlane();
    for (const ns of ['b1', 'b2']) await createNamespace(cp.client, ns);
    const logger = createLogger({ level: 'warn', format: 'json' });
    const client = new KubeClient(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }));
    const metrics = createMetrics({ processMetrics: false });
    manager = new Manager({ client, logger, metrics, events: new EventRecorder(client, logger), httpAddr: { host: '127.0.0.1', port: 0 }, metricsAddr: undefined, shutdownTimeoutMs: 2000 });
    const common = { client, logger, metrics };
    const b = controller<string>(manager, 'builder-test', logger, 1);
    for (const ns of ['b1', 'b2']) {
      const store = new Store<string>({ ...common, resource: CONFIGMAPS, namespace: ns, name: `configmaps@${ns}`, transform: (o) => (o.data as Record<string, string> | undefined)?.v ?? '' });
      // Only value changes matter; the key says which namespace's store it came from.
      b.forStore(store, { key: (e) => (e.type === 'update' && e.old === e.record ? undefined : `CM:${e.key}`), register: { gatesStart: false } });
    }
    const secrets = new Store<string>({ ...common, resource: SECRETS, namespace: 'b1', name: 'secrets@b1', transform: (o) => o.metadata.name });
    b.watches(secrets, (e) => [{ key: `CM:b1/${e.record}`, afterMs: 200 }], { register: {} })
      .readyWhen(() => (keyLoaded ? undefined : 'test key not loaded'))
      .runs({ name: 'builder-test-runnable', needsLeader: false, run: async () => { ran = true; } })
      .complete(async (key) => { reconciled.push(key); });
    await manager.start();
  });
  after(async () => {
    await manager?.stop();
    await cp?.stop();
  });

  const readyz = async () => (await fetch(`http://127.0.0.1:${manager.httpPort}/readyz`)).status;

  it('primaries map to their own keys, predicates skip unchanged values, a watched store enqueues later', async () => {
    await cp.client.create(CONFIGMAPS, configMap('b1', 'a', { v: '1' }));
    await cp.client.create(CONFIGMAPS, configMap('b2', 'a', { v: '1' }));
    await eventually('both primaries to reconcile', () => reconciled.includes('CM:b1/a') && reconciled.includes('CM:b2/a'));
    const before = reconciled.length;
    await cp.client.patch(CONFIGMAPS, 'b1', 'a', 'merge', { metadata: { labels: { only: 'metadata' } } });
    await setData(cp.client, 'b2', 'a', { v: '2' });
    await eventually('the value change to reconcile', () => reconciled.slice(before).includes('CM:b2/a'));
    assert.ok(!reconciled.slice(before).includes('CM:b1/a'), 'a label change (same record value) enqueued nothing');
    await cp.client.create(SECRETS, secret('b1', 'a', { k: 'x' }));
    await eventually('the Secret event to enqueue its ConfigMap key', () => reconciled.slice(before).includes('CM:b1/a'));
    assert.ok(ran, 'the runnable was started');
  });

  it('the declared readiness check is part of /readyz', async () => {
    assert.equal(await readyz(), 503);
    keyLoaded = true;
    assert.equal(await readyz(), 200);
  });
});

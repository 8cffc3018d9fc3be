// The list+watch store against a real apiserver: paged initial list, compact records, watch events, indexes,
// recovery after the apiserver restarts, relisting after 410 Gone, and RBAC errors that do not stop it.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { CONFIGMAPS, NAMESPACES, SECRETS } from '../../src/kube/resources.js';
import { Store, type StoreEvent } from '../../src/kube/store.js';
import type { KubeObject } from '../../src/kube/types.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { silentLogger } from '../../src/observe/logger.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { metricValue } from '../support/controller.js';
import { eventually } from '../support/wait.js';

interface Compact { name: string; digest: string; team: string | undefined }
const compact = (o: KubeObject): Compact => ({
  name: o.metadata.name!,
  digest: createHash('sha256').update(JSON.stringify((o as { data?: unknown }).data ?? {})).digest('hex'),
  team: o.metadata.labels?.team,
});
const cm = (ns: string, name: string, data: Record<string, string>, labels?: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data });

describe('Store (list+watch) on a real apiserver', () => {
  let cp: ControlPlane;
  const logger = silentLogger();
  before(async () => {
    // Compaction every second without a watch cache makes an old resourceVersion expire (410) on demand.
    cp = await startControlPlane({ users: { nobody: [] }, apiServerFlags: ['--etcd-compaction-interval=1s', '--watch-cache=false'] });
    for (const ns of ['s1', 's2', 's3']) await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });
  after(async () => { await cp?.stop(); });

  it('pages the initial list, signals synced and keeps only the compact record', async () => {
    for (let i = 0; i < 23; i++) await cp.client.create(CONFIGMAPS, cm('s1', `c${i}`, { k: `v${i}` }, { team: i % 2 ? 'odd' : 'even' }));
    const store = new Store<Compact>({ client: cp.client, resource: CONFIGMAPS, namespace: 's1', transform: compact, logger, pageSize: 5 });
    store.addIndex('team', (r) => (r.team ? [r.team] : []));
    assert.equal(store.synced, false);
    store.start();
    await store.waitForSync();
    try {
      assert.equal(store.synced, true);
      assert.equal(store.size, 23);
      const r = store.get('s1/c3')!;
      assert.deepEqual(Object.keys(r).sort(), ['digest', 'name', 'team']);
      assert.equal(store.byIndex('team', 'odd').length, 11);
      assert.equal(store.byIndex('team', 'even').length, 12);
    } finally { await store.stop(); }
  });

  it('delivers add, update and delete from the watch, and skips unchanged relist items', async () => {
    const store = new Store<Compact>({ client: cp.client, resource: CONFIGMAPS, namespace: 's2', transform: compact, logger });
    const events: StoreEvent<Compact>[] = [];
    store.onChange((e) => events.push(e));
    store.start();
    await store.waitForSync();
    try {
      await cp.client.create(CONFIGMAPS, cm('s2', 'a', { x: '1' }));
      await eventually('add', () => events.some((e) => e.type === 'add' && e.key === 's2/a'));
      const before = store.get('s2/a')!.digest;
      await cp.client.patch(CONFIGMAPS, 's2', 'a', 'merge', { data: { x: '2' } });
      await eventually('update', () => events.some((e) => e.type === 'update' && e.key === 's2/a'));
      const upd = events.find((e) => e.type === 'update')!;
      assert.ok(upd.type === 'update' && upd.old.digest === before && upd.record.digest !== before);
      await cp.client.delete(CONFIGMAPS, 's2', 'a');
      await eventually('delete', () => events.some((e) => e.type === 'delete' && e.key === 's2/a'));
      assert.equal(store.get('s2/a'), undefined);
    } finally { await store.stop(); }
  });

  it('a transform that returns undefined keeps the object out (and removes it when it stops matching)', async () => {
    const store = new Store<Compact>({
      client: cp.client, resource: SECRETS, namespace: 's2', logger,
      transform: (o) => (o.metadata.labels?.keep === 'yes' ? compact(o) : undefined),
    });
    const events: string[] = [];
    store.onChange((e) => events.push(`${e.type} ${e.key}`));
    store.start();
    await store.waitForSync();
    try {
      await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kept', namespace: 's2', labels: { keep: 'yes' } }, stringData: { p: 'hunter2' } });
      await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dropped', namespace: 's2' }, stringData: { p: 'x' } });
      await eventually('kept', () => store.get('s2/kept'));
      await cp.client.patch(SECRETS, 's2', 'kept', 'merge', { metadata: { labels: { keep: 'no' } } });
      await eventually('removed', () => store.get('s2/kept') === undefined);
      assert.deepEqual(events, ['add s2/kept', 'delete s2/kept']);
    } finally { await store.stop(); }
  });

  it('recovers after the apiserver restarts and sees changes made afterwards', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const store = new Store<Compact>({ client: cp.client, resource: CONFIGMAPS, namespace: 's3', transform: compact, logger, metrics, backoff: { baseMs: 100, maxMs: 500 } });
    await cp.client.create(CONFIGMAPS, cm('s3', 'before', { a: '1' }));
    store.start();
    await store.waitForSync();
    try {
      await cp.restartApiServer();
      await cp.client.create(CONFIGMAPS, cm('s3', 'after', { a: '2' }));
      await cp.client.delete(CONFIGMAPS, 's3', 'before');
      await eventually('the store to catch up', () => store.get('s3/after') && !store.get('s3/before'), 30_000);
      assert.ok(store.restartCount >= 1);
      assert.ok(metricValue(await metrics.registry.metrics(), 'keelson_watch_restarts_total', { resource: 'configmaps' }) >= 1);
    } finally { await store.stop(); }
  });

  it('relists on 410 Gone and emits exactly the difference', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const store = new Store<Compact>({ client: cp.client, resource: CONFIGMAPS, namespace: 's3', transform: compact, logger, metrics });
    for (const n of ['keep', 'change', 'remove']) await cp.client.create(CONFIGMAPS, cm('s3', `g-${n}`, { v: '1' }));
    store.start();
    await store.waitForSync();
    await store.stop();
    const events: string[] = [];
    store.onChange((e) => { if (e.key.startsWith('s3/g-')) events.push(`${e.type} ${e.key}`); });
    // While stopped: change, remove and add; then let compaction expire the store's resourceVersion.
    await cp.client.patch(CONFIGMAPS, 's3', 'g-change', 'merge', { data: { v: '2' } });
    await cp.client.delete(CONFIGMAPS, 's3', 'g-remove');
    await cp.client.create(CONFIGMAPS, cm('s3', 'g-new', { v: '1' }));
    const rvNow = (await cp.client.list(CONFIGMAPS, { namespace: 's3' })).metadata.resourceVersion!;
    await eventually('compaction past the store', async () => {
      try { await cp.client.list(CONFIGMAPS, { namespace: 's3', resourceVersion: String(Number(rvNow) - 1), limit: 1 }); return false; } catch { return true; }
    }, 20_000, 250);
    store.start();
    try {
      await eventually('relist', () => events.length >= 3);
      assert.deepEqual(events.sort(), ['add s3/g-new', 'delete s3/g-remove', 'update s3/g-change']);
      assert.equal(store.get('s3/g-keep')?.name, 'g-keep');
      assert.ok(metricValue(await metrics.registry.metrics(), 'keelson_watch_restarts_total', { resource: 'configmaps' }) >= 1);
    } finally { await store.stop(); }
  });

  it('metadata-only: lists and watches Secrets without their data, pages included', async () => {
    const secret = (name: string, labels?: Record<string, string>) =>
      ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 's3', labels }, type: 'Opaque', data: { big: Buffer.alloc(4096, 7).toString('base64') } });
    for (let i = 0; i < 7; i++) await cp.client.create(SECRETS, secret(`m${i}`));
    const seen: KubeObject[] = [];
    const store = new Store<string>({
      client: cp.client, resource: SECRETS, namespace: 's3', logger, pageSize: 3, metadataOnly: true,
      transform: (o) => { seen.push(o); return o.metadata.labels?.phase ?? '-'; },
    });
    const events: StoreEvent<string>[] = [];
    store.onChange((e) => events.push(e));
    store.start();
    await store.waitForSync();
    try {
      assert.equal(store.size, 7);
      await cp.client.create(SECRETS, secret('late'));
      await eventually('add', () => events.some((e) => e.type === 'add' && e.key === 's3/late'));
      await cp.client.patch(SECRETS, 's3', 'late', 'merge', { metadata: { labels: { phase: 'two' } } });
      await eventually('update', () => store.get('s3/late') === 'two');
      await cp.client.delete(SECRETS, 's3', 'late');
      await eventually('delete', () => events.some((e) => e.type === 'delete' && e.key === 's3/late'));
      assert.equal(seen.length, 9); // 7 listed, then the add and the update (a delete needs no transform)
      for (const o of seen) {
        assert.equal(o.kind, 'PartialObjectMetadata');
        assert.equal(o.apiVersion, 'meta.k8s.io/v1');
        assert.equal(o.data, undefined);
        assert.equal(o.metadata.namespace, 's3');
        assert.ok(o.metadata.resourceVersion);
      }
    } finally { await store.stop(); }
  });

  it('metadata-only: an empty list ("items": null from the apiserver) syncs with nothing in it', async () => {
    const store = new Store<string>({ client: cp.client, resource: SECRETS, namespace: 'no-such-namespace', logger, metadataOnly: true, transform: (o) => o.metadata.name! });
    store.start();
    try {
      await store.waitForSync();
      assert.equal(store.size, 0);
      assert.equal(store.restartCount, 0);
    } finally { await store.stop(); }
  });

  it('keeps retrying when forbidden, counts it, and syncs once access is granted', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.userKubeConfigPath('nobody'));
    const nobody = new KubeClient(kc);
    const metrics = createMetrics({ processMetrics: false });
    const store = new Store<Compact>({ client: nobody, resource: CONFIGMAPS, namespace: 's1', transform: compact, logger, metrics, backoff: { baseMs: 100, maxMs: 300 } });
    store.start();
    try {
      await eventually('a forbidden count', async () => metricValue(await metrics.registry.metrics(), 'keelson_api_forbidden_total', { resource: 'configmaps', namespace: 's1' }) >= 1);
      assert.equal(store.synced, false);
      const RB = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true };
      const ROLES = { ...RB, plural: 'roles', kind: 'Role' };
      await cp.client.create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-cm', namespace: 's1' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }] });
      await cp.client.create(RB, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'read-cm', namespace: 's1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-cm' }, subjects: [{ kind: 'User', name: 'nobody', apiGroup: 'rbac.authorization.k8s.io' }] });
      await store.waitForSync();
      assert.equal(store.size, 23);
    } finally { await store.stop(); nobody.close(); }
  });
});

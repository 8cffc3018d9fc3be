// Git sync against a real control plane and a real git daemon: apply, update (only differing objects written),
// prune of this GitSync's own inventory only, the allow-empty guard, drift healing, and coexistence with another
// field manager (keelson-reload's pod-template annotation is neither removed nor counted as drift); no-op resyncs
// that dry-run nothing (after a restart too) and still heal an object edited, unlabelled or deleted by hand; a plan
// that reads only objects that exist.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planRevision } from '../../src/gitsync/apply.js';
import { Discovery } from '../../src/gitsync/discovery.js';
import { listLiveVersions } from '../../src/gitsync/live-versions.js';
import { parseInventoryEntry } from '../../src/gitsync/prune.js';
import { finalize, parseFiles } from '../../src/gitsync/render.js';
import type { KubeClient } from '../../src/kube/client.js';
import { CONFIGMAPS, DEPLOYMENTS, GITSYNCS, SECRETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, eventsFor, gitSyncStatus, installGitSyncCrd, ready, waitApplied, letServiceAccountsApply } from '../support/gitsync-fixture.js';
import { delay, eventually } from '../support/wait.js';

const cm = (name: string, data: Record<string, string>, extra = '') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`;
const deployment = (name: string, image = 'nginx:1') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: c
          image: ${image}
`;

const pick = (l: Record<string, unknown>) => ({ msg: l.msg, dryRuns: l.dryRuns, restored: l.restored });

describe('gitsync: apply, update, prune, drift', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let cache: string;

  before(async () => {
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await letServiceAccountsApply(cp.client);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git']);
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('says clearly that the CRD is missing, keeps running, and starts syncing once it is installed', async () => {
    await eventually('a log line about the missing CRD', () => ctl.logText().includes('the GitSync CRD (gitsyncs.keelson.dev) is not installed'));
    await installGitSyncCrd(cp.client);
    const ns = await createNamespace(cp.client, 'crd-late');
    const repo = servers.repo('crd-late');
    const sha = repo.write({ 'a.yaml': cm('a', { k: '1' }) }).commit('one');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('crd-late') });
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha}`, 60_000);
  });

  it('applies every manifest under path with server-side apply, labels and inventory', async () => {
    const ns = await createNamespace(cp.client, 'apply');
    const repo = servers.repo('apply');
    const sha = repo.write({
      'deploy/app/10-config.yaml': `${cm('settings', { mode: 'a' })}---\n${cm('other', { x: '1' })}`,
      'deploy/app/20-web.yml': deployment('web'),
      'deploy/app/secret.json': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { user: 'u' } }),
      'deploy/other/ignored.yaml': cm('ignored', { x: '1' }),
      'deploy/app/notes.txt': 'not a manifest',
    }).commit('first');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('apply'), path: 'deploy/app' });
    const st = await waitApplied(cp.client, ns, 'app', `main@sha1:${sha}`);
    assert.deepEqual(st.inventory!.map((e) => e.id), [`${ns}_creds__Secret`, `${ns}_other__ConfigMap`, `${ns}_settings__ConfigMap`, `${ns}_web_apps_Deployment`]);
    const settings = await cp.client.get(CONFIGMAPS, ns, 'settings');
    assert.deepEqual(settings.data, { mode: 'a' });
    assert.equal(settings.metadata.labels?.['gitsync.keelson.dev/name'], 'app');
    assert.ok((settings.metadata.managedFields as { manager: string; operation: string }[]).some((f) => f.manager === 'keelson-sync' && f.operation === 'Apply'));
    assert.equal(Buffer.from((await cp.client.get(SECRETS, ns, 'creds')).data!['user' as never] as unknown as string, 'base64').toString(), 'u');
    assert.equal(await cp.client.tryGet(CONFIGMAPS, ns, 'ignored'), undefined);
    assert.equal(st.observedGeneration, 1);
    const events = await eventsFor(cp.client, ns, 'app');
    assert.ok(events.some((e) => e.reason === 'Synced' && String(e.message).includes('4 created')), JSON.stringify(events.map((e) => e.message)));
    const metrics = await ctl.metrics();
    assert.ok(metricValue(metrics, 'keelson_gitsync_runs_total', { namespace: ns, name: 'app', result: 'success' }) >= 1);
    assert.ok(metricValue(metrics, 'keelson_gitsync_duration_seconds_count', { namespace: ns, name: 'app' }) >= 1);
    assert.ok(metricValue(metrics, 'keelson_gitsync_last_applied_timestamp_seconds', { namespace: ns, name: 'app' }) > 0);
  });

  it('applies CRDs and Namespaces first, waits for the CRD, then the objects that need them', async () => {
    const ns = await createNamespace(cp.client, 'stages');
    const repo = servers.repo('stages');
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
    const sha = repo.write({
      // File order puts the users before the CRD and the Namespace; apply order must not.
      'a-widget.yaml': 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nsize: 3\n',
      'b-in-new-ns.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside, namespace: brand-new}\ndata: {v: "1"}\n',
      'y-crd.yaml': crd,
      'z-ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: brand-new}\n',
    }).commit('crd and users');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('stages') });
    const st = await waitApplied(cp.client, ns, 'app', `main@sha1:${sha}`);
    assert.deepEqual(st.inventory!.map((e) => e.id), ['_brand-new__Namespace', '_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition', 'brand-new_inside__ConfigMap', 'stages_w1_example.com_Widget']);
    const widget = await cp.client.get({ group: 'example.com', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true }, ns, 'w1');
    assert.equal(widget.size, 3);
    assert.ok(await cp.client.tryGet(CONFIGMAPS, 'brand-new', 'inside'));
  });

  it('applies an update, writing only the objects that differ', async () => {
    const ns = 'apply';
    const repo = servers.repo('apply');
    const webBefore = await cp.client.get(DEPLOYMENTS, ns, 'web');
    const otherBefore = await cp.client.get(CONFIGMAPS, ns, 'other');
    const secretBefore = await cp.client.get(SECRETS, ns, 'creds');
    const sha = repo.write({ 'deploy/app/10-config.yaml': `${cm('settings', { mode: 'b' })}---\n${cm('other', { x: '1' })}` }).commit('update settings');
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha}`);
    assert.deepEqual((await cp.client.get(CONFIGMAPS, ns, 'settings')).data, { mode: 'b' });
    assert.equal((await cp.client.get(DEPLOYMENTS, ns, 'web')).metadata.resourceVersion, webBefore.metadata.resourceVersion);
    assert.equal((await cp.client.get(CONFIGMAPS, ns, 'other')).metadata.resourceVersion, otherBefore.metadata.resourceVersion);
    // Several idle intervals later nothing has been rewritten either.
    await delay(2500);
    assert.equal((await cp.client.get(CONFIGMAPS, ns, 'other')).metadata.resourceVersion, otherBefore.metadata.resourceVersion);
    assert.equal((await cp.client.get(SECRETS, ns, 'creds')).metadata.resourceVersion, secretBefore.metadata.resourceVersion);
    assert.equal((await gitSyncStatus(cp.client, ns, 'app')).drifted, 0);
  });

  it('prunes only its own inventory: objects that left Git go, protected and foreign ones stay', async () => {
    const ns = await createNamespace(cp.client, 'prune');
    const mine = servers.repo('prune-mine');
    const theirs = servers.repo('prune-theirs');
    let sha = mine.write({ 'a.yaml': cm('a', { v: '1' }), 'b.yaml': cm('b', { v: '1' }), 'keep.yaml': cm('keep', { v: '1' }, '  annotations:\n    keelson.dev/prune: disabled\n') }).commit('three');
    const shaTheirs = theirs.write({ 'x.yaml': cm('x', { v: '1' }) }).commit('theirs');
    await createGitSync(cp.client, ns, 'mine', { url: servers.daemonUrl('prune-mine'), prune: true });
    await createGitSync(cp.client, ns, 'theirs', { url: servers.daemonUrl('prune-theirs'), prune: true });
    await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'manual', namespace: ns }, data: { v: '1' } });
    await waitApplied(cp.client, ns, 'mine', `main@sha1:${sha}`);
    await waitApplied(cp.client, ns, 'theirs', `main@sha1:${shaTheirs}`);
    // Tamper with the inventory to claim the other GitSync's object and the manual one: prune must still refuse.
    const st = await gitSyncStatus(cp.client, ns, 'mine');
    await cp.client.patch(GITSYNCS, ns, 'mine', 'merge', { status: { inventory: [...st.inventory!, { id: `${ns}_x__ConfigMap`, v: 'v1' }, { id: `${ns}_manual__ConfigMap`, v: 'v1' }] } }, { subresource: 'status' });
    sha = mine.write({ 'b.yaml': null, 'keep.yaml': null }).commit('drop b and keep');
    await waitApplied(cp.client, ns, 'mine', `main@sha1:${sha}`);
    await eventually('b to be pruned', async () => (await cp.client.tryGet(CONFIGMAPS, ns, 'b')) === undefined);
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'a'));
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'keep'), 'keelson.dev/prune: disabled protects');
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'x'), "another GitSync's object is never pruned");
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'manual'), 'an object no GitSync applied is never pruned');
    assert.deepEqual((await gitSyncStatus(cp.client, ns, 'mine')).inventory!.map((e) => e.id), [`${ns}_a__ConfigMap`]);
  });

  it('refuses to prune everything for an empty revision unless keelson.dev/allow-empty is set', async () => {
    const ns = 'prune';
    const mine = servers.repo('prune-mine');
    const emptySha = mine.write({ 'a.yaml': null }).commit('everything gone');
    await eventually('Ready=False EmptyRevision', async () => {
      const st = await gitSyncStatus(cp.client, ns, 'mine');
      return ready(st).reason === 'EmptyRevision' && st.lastAttemptedRevision === `main@sha1:${emptySha}` ? st : undefined;
    });
    const st = await gitSyncStatus(cp.client, ns, 'mine');
    assert.match(ready(st).message!, /refusing to prune all 1 objects.*keelson\.dev\/allow-empty/);
    assert.notEqual(st.lastAppliedRevision, `main@sha1:${emptySha}`);
    await delay(1500);
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'a'), 'nothing pruned');
    await cp.client.patch(GITSYNCS, ns, 'mine', 'merge', { metadata: { annotations: { 'keelson.dev/allow-empty': 'true' } } });
    await waitApplied(cp.client, ns, 'mine', `main@sha1:${emptySha}`);
    await eventually('a to be pruned', async () => (await cp.client.tryGet(CONFIGMAPS, ns, 'a')) === undefined);
  });

  it('heals drift in fields Git sets and leaves fields of other managers alone', async () => {
    const ns = 'apply';
    await cp.client.patch(CONFIGMAPS, ns, 'settings', 'merge', { data: { mode: 'hacked' }, metadata: { labels: { team: 'ops' } } }, { fieldManager: 'kubectl-edit' });
    await eventually('settings healed', async () => ((await cp.client.get(CONFIGMAPS, ns, 'settings')).data as Record<string, string> | undefined)?.mode === 'b');
    const healed = await cp.client.get(CONFIGMAPS, ns, 'settings');
    assert.equal(healed.metadata.labels?.team, 'ops', 'a label Git does not set stays');
    await eventually('a DriftCorrected event', async () => (await eventsFor(cp.client, ns, 'app')).some((e) => e.reason === 'DriftCorrected'));
  });

  it('does not fight keelson-reload: its pod-template annotation stays and is not drift', async () => {
    const ns = 'apply';
    await cp.client.patch(DEPLOYMENTS, ns, 'web', 'merge', { spec: { template: { metadata: { annotations: { 'keelson.dev/config-hash': 'abc123' } } } } }, { fieldManager: 'keelson-reload' });
    const patched = await cp.client.get(DEPLOYMENTS, ns, 'web');
    const driftEvents = (await eventsFor(cp.client, ns, 'app')).filter((e) => e.reason === 'DriftCorrected').reduce((n, e) => n + Number(e.count ?? 1), 0);
    const runsBefore = metricValue(await ctl.metrics(), 'keelson_gitsync_runs_total', { namespace: ns, name: 'app', result: 'success' });
    await eventually('four more syncs', async () => metricValue(await ctl.metrics(), 'keelson_gitsync_runs_total', { namespace: ns, name: 'app', result: 'success' }) >= runsBefore + 4, 20_000);
    const after = await cp.client.get(DEPLOYMENTS, ns, 'web');
    assert.equal(after.metadata.resourceVersion, patched.metadata.resourceVersion, 'the Deployment was not rewritten');
    assert.equal((after.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations?.['keelson.dev/config-hash'], 'abc123');
    assert.equal((await gitSyncStatus(cp.client, ns, 'app')).drifted, 0);
    const driftAfter = (await eventsFor(cp.client, ns, 'app')).filter((e) => e.reason === 'DriftCorrected').reduce((n, e) => n + Number(e.count ?? 1), 0);
    assert.equal(driftAfter, driftEvents);
    // A Git change to the same Deployment keeps the other manager's annotation too.
    const sha = servers.repo('apply').write({ 'deploy/app/20-web.yml': deployment('web', 'nginx:2') }).commit('new image');
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha}`);
    const rolled = await cp.client.get(DEPLOYMENTS, ns, 'web');
    const tpl = (rolled.spec as { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { image: string }[] } } }).template;
    assert.equal(tpl.spec.containers[0]!.image, 'nginx:2');
    assert.equal(tpl.metadata.annotations?.['keelson.dev/config-hash'], 'abc123');
  });

  it('a controller restart (with an empty cache) rewrites nothing', async () => {
    const ns = 'apply';
    const rvs = async () => Promise.all([cp.client.get(CONFIGMAPS, ns, 'settings'), cp.client.get(CONFIGMAPS, ns, 'other'), cp.client.get(DEPLOYMENTS, ns, 'web'), cp.client.get(SECRETS, ns, 'creds')])
      .then((objs) => objs.map((o) => o.metadata.resourceVersion));
    const before = await rvs();
    const synced = (await eventsFor(cp.client, ns, 'app')).filter((e) => e.reason === 'Synced').reduce((n, e) => n + Number(e.count ?? 1), 0);
    await ctl.stop();
    rmSync(cache, { recursive: true, force: true });
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git']);
    await eventually('three syncs after the restart', async () => metricValue(await ctl.metrics(), 'keelson_gitsync_runs_total', { namespace: ns, name: 'app', result: 'success' }) >= 3, 20_000);
    assert.deepEqual(await rvs(), before);
    const syncedAfter = (await eventsFor(cp.client, ns, 'app')).filter((e) => e.reason === 'Synced').reduce((n, e) => n + Number(e.count ?? 1), 0);
    assert.equal(syncedAfter, synced, 'no new Synced event: nothing was applied');
  });

  it('a no-op resync dry-runs nothing, after a restart too; a hand edit between two syncs with no Git change is healed', async () => {
    const ns = 'apply';
    const flags = ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git'];
    const syncLogs = () => ctl.logs.filter((l) => l.gitsync === `${ns}/app` && (l.msg === 'in sync' || l.msg === 'revision applied'));
    const cmData = async (name: string) => (await cp.client.tryGet(CONFIGMAPS, ns, name))?.data as Record<string, string> | undefined;
    // A restart: the record in memory is gone, status.inventoryFingerprint stands in for it.
    await ctl.stop();
    ctl = await startController(cp, flags);
    await eventually('the first sync after the restart', () => syncLogs().length > 0);
    assert.deepEqual(pick(syncLogs()[0]!), { msg: 'in sync', dryRuns: 0, restored: true });
    await eventually('another no-op sync', () => syncLogs().length > 1);
    assert.deepEqual(pick(syncLogs()[1]!), { msg: 'in sync', dryRuns: 0, restored: false });

    // Changed by hand; Git is unchanged: found by its moved resourceVersion, dry-run alone, healed.
    let seen = syncLogs().length;
    await cp.client.patch(CONFIGMAPS, ns, 'other', 'merge', { data: { x: 'by-hand' } }, { fieldManager: 'kubectl-edit' });
    await eventually('other healed', async () => (await cmData('other'))?.x === '1');
    await eventually('the healing sync logged', () => syncLogs().slice(seen).some((l) => l.msg === 'revision applied'));
    const healing = syncLogs().slice(seen).find((l) => l.msg === 'revision applied')!;
    assert.deepEqual([healing.dryRuns, healing.configured, healing.drifted], [1, 1, 1]);

    // The owner labels removed by hand: the object leaves the label-selected LIST, is planned, and gets them back.
    await cp.client.patch(CONFIGMAPS, ns, 'other', 'merge', { metadata: { labels: { 'gitsync.keelson.dev/name': null } } }, { fieldManager: 'kubectl-edit' });
    await eventually('owner label restored', async () => (await cp.client.get(CONFIGMAPS, ns, 'other')).metadata.labels?.['gitsync.keelson.dev/name'] === 'app');
    // Deleted by hand: missing from the LIST, created again.
    seen = syncLogs().length;
    await cp.client.delete(CONFIGMAPS, ns, 'other');
    await eventually('other recreated', async () => (await cmData('other'))?.x === '1');
    await eventually('back to no-op syncs', () => syncLogs().slice(seen).some((l) => l.msg === 'in sync' && l.dryRuns === 0));
    assert.equal((await gitSyncStatus(cp.client, ns, 'app')).inventoryFingerprint?.startsWith('v1:'), true);

    // What a no-op poll reads: one metadata-only LIST per kind, giving every object's live resourceVersion.
    const inventory = (await gitSyncStatus(cp.client, ns, 'app')).inventory!.map((e) => parseInventoryEntry(e)!);
    const targets = inventory.map((r) => ({ group: r.group, version: r.version, kind: r.kind, namespace: r.namespace }));
    const live = await listLiveVersions(cp.client, new Discovery(cp.client), targets, { namespace: ns, name: 'app' });
    assert.equal(live.requests, 3, 'ConfigMap, Secret, Deployment');
    const types = { ConfigMap: CONFIGMAPS, Secret: SECRETS, Deployment: DEPLOYMENTS } as Record<string, typeof CONFIGMAPS>;
    for (const r of inventory) assert.equal(live.versions.get(r.id), (await cp.client.get(types[r.kind]!, r.namespace, r.name)).metadata.resourceVersion, r.id);
    // A kind spread over two namespaces is listed cluster-wide, still once.
    const spread = await listLiveVersions(cp.client, new Discovery(cp.client), [...targets, { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'default' }], { namespace: ns, name: 'app' });
    assert.equal(spread.requests, 3);
    assert.deepEqual(spread.versions, live.versions);
    assert.ok(spread.listed({ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'default' }));
  });

  it('a requested no-op resync is answered from Keelson\'s cache of the GitSync; a hand edit or a new commit still takes the full way, once', async () => {
    const ns = 'apply';
    const logs = () => ctl.logs.filter((l) => l.gitsync === `${ns}/app` && (l.msg === 'in sync' || l.msg === 'revision applied'));
    const request = async (mark: string) => {
      await cp.client.patch(GITSYNCS, ns, 'app', 'merge', { metadata: { annotations: { 'keelson.dev/requested-at': mark } } });
      await eventually(`requested-at ${mark} handled`, async () => (await gitSyncStatus(cp.client, ns, 'app')).lastHandledRequestedAt === mark);
    };
    let seen = logs().length;
    await request('cache-1');
    assert.ok(logs().slice(seen).some((l) => l.msg === 'in sync' && l.cached === true && l.dryRuns === 0 && l.listRequests === 3), JSON.stringify(logs().slice(seen)));

    // Edited by hand just before a request: the LISTs (read from etcd, not a cache) see it; healed the full way.
    seen = logs().length;
    await cp.client.patch(CONFIGMAPS, ns, 'other', 'merge', { data: { x: 'by-hand-again' } }, { fieldManager: 'kubectl-edit' });
    await request('cache-2');
    assert.equal(((await cp.client.get(CONFIGMAPS, ns, 'other')).data as Record<string, string>).x, '1');
    assert.ok(logs().slice(seen).some((l) => l.msg === 'revision applied' && l.drifted === 1), JSON.stringify(logs().slice(seen)));

    // A new commit: the cached check stops once ls-remote names it, and the full way applies it once.
    seen = logs().length;
    const sha = servers.repo('apply').write({ 'deploy/app/30-new.yaml': cm('fresh', { n: '1' }) }).commit('fresh');
    await request('cache-3');
    assert.equal((await gitSyncStatus(cp.client, ns, 'app')).lastAppliedRevision, `main@sha1:${sha}`);
    const applied = logs().slice(seen).filter((l) => l.msg === 'revision applied' && l.revision === `main@sha1:${sha}`);
    assert.equal(applied.length, 1, JSON.stringify(logs().slice(seen)));
    assert.equal(applied[0]!.created, 1);
  });

  it('deleting a pruning GitSync first deletes what it applied (protected objects stay); without prune nothing is deleted', async () => {
    const ns = await createNamespace(cp.client, 'delete-sync');
    const repo = servers.repo('delete-sync');
    const sha = repo.write({
      'a.yaml': cm('gone-a', { k: '1' }),
      'b.yaml': cm('kept-b', { k: '1' }, '  annotations:\n    keelson.dev/prune: disabled\n'),
    }).commit('two');
    await createGitSync(cp.client, ns, 'pruning', { url: servers.daemonUrl('delete-sync'), prune: true });
    await waitApplied(cp.client, ns, 'pruning', `main@sha1:${sha}`);
    await eventually('the finalizer', async () => (await cp.client.get(GITSYNCS, ns, 'pruning')).metadata.finalizers?.includes('finalizers.keelson.dev/gitsync'));
    await cp.client.delete(GITSYNCS, ns, 'pruning');
    await eventually('the GitSync to be gone', async () => (await cp.client.tryGet(GITSYNCS, ns, 'pruning')) === undefined);
    assert.equal(await cp.client.tryGet(CONFIGMAPS, ns, 'gone-a'), undefined, 'its object was deleted with it');
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'kept-b'), 'a protected object stays');

    const ns2 = await createNamespace(cp.client, 'delete-noprune');
    const repo2 = servers.repo('delete-noprune');
    const sha2 = repo2.write({ 'c.yaml': cm('stays-c', { k: '1' }) }).commit('one');
    await createGitSync(cp.client, ns2, 'plain', { url: servers.daemonUrl('delete-noprune') });
    await waitApplied(cp.client, ns2, 'plain', `main@sha1:${sha2}`);
    assert.equal((await cp.client.get(GITSYNCS, ns2, 'plain')).metadata.finalizers, undefined, 'no finalizer without prune');
    await cp.client.delete(GITSYNCS, ns2, 'plain');
    await eventually('the GitSync to be gone', async () => (await cp.client.tryGet(GITSYNCS, ns2, 'plain')) === undefined);
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns2, 'stays-c'), 'without prune, deleting the GitSync leaves its objects');
  });
  it('plans a new object with its dry-run alone and reads an existing one, telling update from no change', async () => {
    const ns = await createNamespace(cp.client, 'plan-reads');
    await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same', namespace: ns }, data: { a: '1' } });
    await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'edited', namespace: ns }, data: { a: 'by-hand' } });
    const files = [{ path: 'a.yaml', content: [cm('fresh', { a: '1' }), cm('same', { a: '1' }), cm('edited', { a: '1' })].join('---\n') }];
    const objects = finalize(parseFiles(files), { targetNamespace: ns, defaultNamespace: ns, owner: { namespace: ns, name: 'plan' }, scope: () => true });
    // The owner labels make "same" differ too: apply it once, as a sync would have.
    for (const o of objects.filter((x) => x.object.metadata.name === 'same')) await cp.client.apply(CONFIGMAPS, o.object, { fieldManager: 'keelson-sync', force: true });
    // The real client, with its GETs noted.
    const reads: string[] = [];
    const client = Object.create(cp.client) as KubeClient;
    client.tryGet = (async (type, namespace, name) => { reads.push(name); return cp.client.tryGet(type, namespace, name); }) as KubeClient['tryGet'];
    const plan = await planRevision(client, new Discovery(cp.client), objects);
    assert.deepEqual(Object.fromEntries(plan.map((p) => [p.desired.object.metadata.name, p.action])), { fresh: 'create', same: 'unchanged', edited: 'update' });
    assert.deepEqual(reads.sort(), ['edited', 'same'], 'no GET for the object that does not exist');
    assert.equal(plan.find((p) => p.action === 'create')!.live, undefined);
    assert.equal(await cp.client.tryGet(CONFIGMAPS, ns, 'fresh'), undefined, 'planning wrote nothing');
  });
});

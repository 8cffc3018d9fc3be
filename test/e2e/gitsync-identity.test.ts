// Git sync tenancy on a real control plane, with the controller running on nothing but the manifests' RBAC (a token
// of the keelson ServiceAccount): the tenant example of manifests/examples/ applies a ConfigMap as its ServiceAccount;
// revisions that add a ClusterRoleBinding, patch Keelson's own Deployment or plant a sealing key write nothing at all
// (not even the ConfigMap change next to them) and name the object, the verb and the ServiceAccount; a GitSync
// without a ServiceAccount writes nothing; prune on deletion runs as the ServiceAccount too; a no-op resync lists (or,
// where the ServiceAccount may not list, GETs) with its rights and still heals hand edits.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { isForbidden } from '../../src/kube/client.js';
import { CONFIGMAPS, DEPLOYMENTS, GITSYNCS, SECRETS, type ResourceType } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { CLUSTERROLEBINDINGS, createGitSync, gitSyncStatus, installGitSyncCrd, ready, runCli, waitApplied } from '../support/gitsync-fixture.js';
import { MANIFESTS, manifestObjects, readObjects } from '../support/manifests.js';
import { eventually } from '../support/wait.js';

const rt = (group: string, version: string, plural: string, kind: string, namespaced = true): ResourceType => ({ group, version, plural, kind, namespaced });
const TYPES: Record<string, ResourceType> = {
  Namespace: rt('', 'v1', 'namespaces', 'Namespace', false),
  ServiceAccount: rt('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  ClusterRole: rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  ClusterRoleBinding: CLUSTERROLEBINDINGS,
  Role: rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  RoleBinding: rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  Deployment: DEPLOYMENTS,
  GitSync: GITSYNCS,
};

const settings = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  v: "${v}"\n`;
const takeover = [
  'apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRoleBinding', 'metadata:', '  name: team-a-takeover',
  'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}',
  'subjects: [{kind: ServiceAccount, name: deployer, namespace: team-a}]', '',
].join('\n');
const sealingKey = [
  'apiVersion: v1', 'kind: Secret', 'type: kubernetes.io/tls', 'metadata:', '  name: planted-key', '  namespace: keelson-system',
  '  labels: {sealedsecrets.bitnami.com/sealed-secrets-key: active}', 'stringData: {tls.crt: attacker-cert, tls.key: attacker-key}', '',
].join('\n');

describe('gitsync identity: each GitSync applies with its own ServiceAccount', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let cache: string;
  const base = manifestObjects();
  const example = readObjects(join(MANIFESTS, 'examples', 'gitsync-tenant.yaml'));
  const exampleGitSync = example.find((o) => o.kind === 'GitSync')!;
  const keelsonDeployment = base.find((m) => m.object.kind === 'Deployment')!.object;
  const cmValue = async (ns: string, name: string) => ((await cp.client.tryGet(CONFIGMAPS, ns, name))?.data as Record<string, string> | undefined)?.v;
  const imageOf = (d: KubeObject) => (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;

  before(async () => {
    // The built-in edit and view roles get their rules from kube-controller-manager's aggregation controller.
    [cp, servers] = await Promise.all([startControlPlane({ controllerManager: ['clusterrole-aggregation'] }), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await eventually('the edit ClusterRole to be aggregated', async () => ((await cp.client.get(TYPES.ClusterRole!, undefined, 'edit')).rules as unknown[] | undefined ?? []).length > 0);
    // The base install (kustomization) for real, the Deployment included: a revision will try to take it over.
    const install = base.filter((m) => m.object.kind !== 'CustomResourceDefinition' && m.object.kind !== 'Service');
    for (const m of [...install.filter((o) => o.object.kind === 'Namespace'), ...install.filter((o) => o.object.kind !== 'Namespace')]) await cp.client.create(TYPES[m.object.kind!]!, m.object);
    const tr = await cp.client.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/keelson-system/serviceaccounts/keelson/token', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    const kubeconfig = join(cp.dir, 'kubeconfig-keelson-identity');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
      clusters: [{ name: 'c', cluster: { server: cp.server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'keelson', user: { token: tr.status.token } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'keelson' } }],
    }));
    // The tenant example, as a cluster administrator applies it (its GitSync comes later, pointed at the test server).
    for (const o of example) if (o.kind !== 'GitSync') await cp.client.create(TYPES[o.kind!]!, o);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    ctl = await startController(cp, ['--kubeconfig', kubeconfig, '--disable-reload', '--disable-sealing', '--git-cache-dir', cache]);
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  /** A Secret for the HTTPS Git server (TLS and basic auth: a transport allowed in every configuration). */
  const gitSecret = async (ns: string) => {
    const { username, password } = servers.httpAuth;
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git', namespace: ns }, stringData: { username, password, 'ca.crt': servers.caCert } });
  };
  const failedAt = (ns: string, name: string, revision: string) => eventually(`GitSync ${ns}/${name} Ready=False at ${revision}`, async () => {
    const st = await gitSyncStatus(cp.client, ns, name);
    return st.lastAttemptedRevision === revision && ready(st).status === 'False' ? st : undefined;
  }, 30_000);

  it('the API server gives an impersonated ServiceAccount its groups (Impersonate-User alone suffices)', async () => {
    await cp.client.create(TYPES.RoleBinding!, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'all-sa-view', namespace: 'team-a' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts:team-a' }],
    });
    const nobody = cp.client.impersonating('system:serviceaccount:team-a:nobody');
    await eventually('the group binding to take effect', async () => Array.isArray((await nobody.list(CONFIGMAPS, { namespace: 'team-a' })).items));
    await assert.rejects(nobody.list(CONFIGMAPS, { namespace: 'default' }), isForbidden);
    await cp.client.delete(TYPES.RoleBinding!, 'team-a', 'all-sa-view');
    // What the README says: a namespace editor may already impersonate the namespace's ServiceAccounts.
    const edit = await cp.client.get(TYPES.ClusterRole!, undefined, 'edit');
    assert.ok(((edit.rules ?? []) as { resources?: string[]; verbs?: string[] }[]).some((r) => r.resources?.includes('serviceaccounts') && r.verbs?.includes('impersonate')));
  });

  it('applies the tenant example as its ServiceAccount; forbidden objects write nothing and name object, verb and ServiceAccount', async () => {
    const repo = servers.repo('team-a');
    const rev1 = `main@sha1:${repo.write({ 'deploy/settings.yaml': settings('1') }).commit('settings')}`;
    await gitSecret('team-a');
    const spec = { ...(exampleGitSync.spec as Record<string, unknown>), url: servers.httpsUrl('team-a'), secretRef: { name: 'git' }, interval: '1s' };
    await createGitSync(cp.client, 'team-a', exampleGitSync.metadata.name!, spec);
    const name = exampleGitSync.metadata.name!;
    await waitApplied(cp.client, 'team-a', name, rev1);
    assert.equal(await cmValue('team-a', 'settings'), '1');
    const image = imageOf(await cp.client.get(DEPLOYMENTS, 'keelson-system', 'keelson'));

    const evilDeployment = stringify({ ...keelsonDeployment, spec: { ...(keelsonDeployment.spec as object), template: { ...((keelsonDeployment.spec as { template: object }).template), spec: { serviceAccountName: 'keelson', containers: [{ name: 'keelson', image: 'attacker.example/keelson:owned' }] } } } });
    const attacks: { file: string; content: string; object: RegExp; verb: RegExp; written: () => Promise<boolean> }[] = [
      { file: 'deploy/crb.yaml', content: takeover, object: /ClusterRoleBinding team-a-takeover/, verb: /may not (get|create|patch) it/,
        written: async () => (await cp.client.tryGet(CLUSTERROLEBINDINGS, undefined, 'team-a-takeover')) !== undefined },
      { file: 'deploy/keelson.yaml', content: evilDeployment, object: /Deployment keelson-system\/keelson/, verb: /may not (get|patch) it/,
        written: async () => imageOf(await cp.client.get(DEPLOYMENTS, 'keelson-system', 'keelson')) !== image },
      { file: 'deploy/key.yaml', content: sealingKey, object: /Secret keelson-system\/planted-key/, verb: /may not (get|create|patch) it/,
        written: async () => (await cp.client.tryGet(SECRETS, 'keelson-system', 'planted-key')) !== undefined },
    ];
    for (const [i, a] of attacks.entries()) {
      const files: Record<string, string | null> = { 'deploy/settings.yaml': settings(`attack-${i}`), [a.file]: a.content };
      if (i > 0) files[attacks[i - 1]!.file] = null;
      const rev = `main@sha1:${repo.write(files).commit(`attack ${i}`)}`;
      const st = await failedAt('team-a', name, rev);
      const msg = ready(st).message ?? '';
      assert.equal(ready(st).reason, 'Forbidden', msg);
      assert.match(msg, new RegExp(`^${a.file.replace(/\./g, '\\.')} \\(document 1\\): `));
      assert.match(msg, a.object);
      assert.match(msg, /ServiceAccount team-a\/deployer/);
      assert.match(msg, a.verb);
      assert.equal(st.lastAppliedRevision, rev1);
      assert.equal(await a.written(), false, `${a.file} was not written`);
      assert.equal(await cmValue('team-a', 'settings'), '1', 'the ConfigMap change of the same revision was not written');
    }

    // `keelson diff` dry-runs as the same ServiceAccount, so it fails where the sync fails.
    const diff = await runCli(['diff', `team-a/${name}`, '--kubeconfig', cp.kubeconfigPath]);
    assert.equal(diff.code, 2, diff.stdout + diff.stderr);
    assert.match(diff.stderr, /Secret keelson-system\/planted-key: ServiceAccount team-a\/deployer may not/);

    const fixed = `main@sha1:${repo.write({ 'deploy/settings.yaml': settings('2'), [attacks.at(-1)!.file]: null }).commit('fixed')}`;
    await waitApplied(cp.client, 'team-a', name, fixed);
    assert.equal(await cmValue('team-a', 'settings'), '2');
    const managers = ((await cp.client.get(CONFIGMAPS, 'team-a', 'settings')).metadata.managedFields ?? []).map((f) => (f as { manager?: string }).manager);
    assert.ok(managers.includes('keelson-sync'), managers.join(','));

    // Deleting the GitSync prunes what it applied, as the ServiceAccount.
    await cp.client.delete(GITSYNCS, 'team-a', name);
    await eventually('the GitSync gone and its ConfigMap pruned', async () => (await cp.client.tryGet(GITSYNCS, 'team-a', name)) === undefined && (await cmValue('team-a', 'settings')) === undefined);
  });

  it('a no-op resync as a namespace-bound ServiceAccount: LISTs per namespace where it may list, GETs where it may not, dry-runs nothing; hand edits are healed', async () => {
    const cm = (ns: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: noop\n  namespace: ${ns}\ndata:\n  v: "${v}"\n`;
    // team-b: edit, as in team-a; team-c: get, create and patch ConfigMaps, but not list them.
    for (const ns of ['team-b', 'team-c']) await cp.client.create(TYPES.Namespace!, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const bind = (ns: string, kind: 'ClusterRole' | 'Role', role: string) => cp.client.create(TYPES.RoleBinding!, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'deployer', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role }, subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'team-a' }],
    });
    await bind('team-b', 'ClusterRole', 'edit');
    await cp.client.create(TYPES.Role!, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-list', namespace: 'team-c' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] }] });
    await bind('team-c', 'Role', 'no-list');
    const repo = servers.repo('noop');
    const rev = `main@sha1:${repo.write({ 'a.yaml': cm('team-a', '1'), 'b.yaml': cm('team-b', '1'), 'c.yaml': cm('team-c', '1') }).commit('three namespaces')}`;
    await createGitSync(cp.client, 'team-a', 'noop', { url: servers.httpsUrl('noop'), secretRef: { name: 'git' }, serviceAccountName: 'deployer', interval: '1s' });
    await waitApplied(cp.client, 'team-a', 'noop', rev);
    const syncs = () => ctl.logs.filter((l) => l.gitsync === 'team-a/noop' && (l.msg === 'in sync' || l.msg === 'revision applied'));
    await eventually('two no-op syncs', () => syncs().filter((l) => l.msg === 'in sync').length >= 2);
    const noop = syncs().filter((l) => l.msg === 'in sync').at(-1)!;
    assert.equal(noop.dryRuns, 0, JSON.stringify(noop));
    assert.ok(Number(noop.listRequests) >= 3, JSON.stringify(noop));
    for (const ns of ['team-b', 'team-c']) {
      const seen = syncs().length;
      await cp.client.patch(CONFIGMAPS, ns, 'noop', 'merge', { data: { v: 'by-hand' } }, { fieldManager: 'kubectl-edit' });
      await eventually(`${ns}/noop healed`, async () => (await cmValue(ns, 'noop')) === '1');
      await eventually('the healing sync logged', () => syncs().slice(seen).some((l) => l.msg === 'revision applied'));
      const healing = syncs().slice(seen).find((l) => l.msg === 'revision applied')!;
      assert.deepEqual([healing.dryRuns, healing.configured], [1, 1], `${ns}: ${JSON.stringify(healing)}`);
    }
    await cp.client.delete(GITSYNCS, 'team-a', 'noop');
  });

  it('a GitSync outside the controller namespace without a ServiceAccount writes nothing (ServiceAccountRequired)', async () => {
    const repo = servers.repo('nosa');
    repo.write({ 'cm.yaml': settings('x').replace('settings', 'unowned') }).commit('one');
    await createGitSync(cp.client, 'team-a', 'nosa', { url: servers.httpsUrl('nosa'), secretRef: { name: 'git' } });
    const st = await eventually('ServiceAccountRequired', async () => {
      const s = await gitSyncStatus(cp.client, 'team-a', 'nosa');
      return ready(s).status === 'False' ? s : undefined;
    });
    assert.equal(ready(st).reason, 'ServiceAccountRequired');
    assert.match(ready(st).message!, /set spec\.serviceAccountName to a ServiceAccount in namespace team-a/);
    assert.equal(st.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
    assert.equal(await cp.client.tryGet(CONFIGMAPS, 'team-a', 'unowned'), undefined);
    assert.ok(!servers.httpRequests.some((r) => r.includes('/nosa.git')), 'the repository was not even fetched');
    const diff = await runCli(['diff', 'team-a/nosa', '--kubeconfig', cp.kubeconfigPath]);
    assert.equal(diff.code, 2, diff.stdout + diff.stderr);
    assert.match(diff.stderr, /names no ServiceAccount/);
    assert.equal((await runCli(['diff', 'team-a/nosa', '--kubeconfig', cp.kubeconfigPath, '--default-service-account', 'deployer'])).code, 1, 'as the default ServiceAccount: a ConfigMap to create');
  });

  it('health checks read as the ServiceAccount: an object it may not read fails the check, Keelson\'s rights are not lent', async () => {
    const repo = servers.repo('probe');
    repo.write({ 'cm.yaml': settings('p').replace('settings', 'probe') }).commit('one');
    await createGitSync(cp.client, 'team-a', 'probe', {
      url: servers.httpsUrl('probe'), secretRef: { name: 'git' }, serviceAccountName: 'deployer', timeout: '1m',
      healthChecks: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'keelson', namespace: 'keelson-system' }],
    });
    const st = await eventually('HealthCheckFailed', async () => {
      const s = await gitSyncStatus(cp.client, 'team-a', 'probe');
      return ready(s).reason === 'HealthCheckFailed' ? s : undefined;
    });
    assert.match(ready(st).message!, /Deployment keelson-system\/keelson: ServiceAccount team-a\/deployer may not read it/);
    assert.doesNotMatch(ready(st).message!, /replicas/, 'nothing of the Deployment\'s status is shown');
    await cp.client.delete(GITSYNCS, 'team-a', 'probe');
  });

  it('a pruning GitSync that loses its ServiceAccount stops, and its deletion leaves its objects in place', async () => {
    const repo = servers.repo('orphan');
    const rev = `main@sha1:${repo.write({ 'cm.yaml': settings('z').replace('settings', 'kept') }).commit('one')}`;
    await createGitSync(cp.client, 'team-a', 'orphan', { url: servers.httpsUrl('orphan'), secretRef: { name: 'git' }, serviceAccountName: 'deployer', prune: true });
    await waitApplied(cp.client, 'team-a', 'orphan', rev);
    await cp.client.patch(GITSYNCS, 'team-a', 'orphan', 'json', [{ op: 'remove', path: '/spec/serviceAccountName' }]);
    await eventually('ServiceAccountRequired', async () => ready(await gitSyncStatus(cp.client, 'team-a', 'orphan')).reason === 'ServiceAccountRequired');
    await cp.client.delete(GITSYNCS, 'team-a', 'orphan');
    await eventually('the GitSync gone (finalizer released)', async () => (await cp.client.tryGet(GITSYNCS, 'team-a', 'orphan')) === undefined);
    assert.equal(await cmValue('team-a', 'kept'), 'z', 'nothing was deleted with Keelson\'s identity');
  });

  it('a GitSync in the controller namespace without a ServiceAccount applies with Keelson\'s own rights, and no more', async () => {
    const repo = servers.repo('own');
    const rev = `main@sha1:${repo.write({ 'cm.yaml': settings('y').replace('settings', 'own') }).commit('one')}`;
    await gitSecret('keelson-system');
    await createGitSync(cp.client, 'keelson-system', 'own', { url: servers.httpsUrl('own'), secretRef: { name: 'git' } });
    // The base ClusterRole cannot write ConfigMaps: the opt-in binding is what would allow it.
    const st = await failedAt('keelson-system', 'own', rev);
    assert.equal(ready(st).reason, 'Forbidden');
    assert.match(ready(st).message!, /ConfigMap keelson-system\/own: Keelson's own identity may not (get|patch|create) it/);
    assert.match(ready(st).message!, /manifests\/optional\/gitsync-apply\.yaml/);
  });
});

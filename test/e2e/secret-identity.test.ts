// No confused deputy, on a real control plane: a tenant whose ServiceAccount may not read a Secret names it anyway
// (GitSync spec.secretRef and spec.proxySecretRef, ImagePolicy spec.secretRef) and points the URL at a server it
// controls. The server must never see a credential (it records every Authorization header), and the object says
// Ready=False, SecretForbidden, naming the Secret, the ServiceAccount and the Role rule that fixes it. Once that
// rule exists the same objects work: Secrets are read with the object's own identity, not Keelson's. Image updates
// (a GitSync's imageUpdate) push with nothing either when its ServiceAccount may not read the Git Secret.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImagePolicyStatus } from '../../src/images/spec.js';
import { IMAGEPOLICIES, SECRETS, type ResourceType } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { installCrd } from '../support/crds.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { createGitSync, createNamespace, eventsFor, gitSyncStatus, installGitSyncCrd, ready, waitApplied } from '../support/gitsync-fixture.js';
import { eventually } from '../support/wait.js';

const rbac = (plural: string, kind: string): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced: true });
const ROLES = rbac('roles', 'Role');
const ROLEBINDINGS = rbac('rolebindings', 'RoleBinding');
const SERVICEACCOUNTS: ResourceType = { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };
const NS = 'team-a';
const SA = 'tenant';

describe('secrets a tenant names are read with the tenant\'s identity', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let cache: string;
  let registry: http.Server;
  let registryHost = '';
  /** Authorization headers the tenant's "registry" received ('none' when absent). */
  const registrySaw: string[] = [];

  /** The tenant's rights: ConfigMaps (what its repository holds), plus `get` on exactly these Secrets. */
  const tenantRole = async (secrets: string[]) => {
    const rules = [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      ...(secrets.length > 0 ? [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: secrets }] : []),
    ];
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: SA, namespace: NS }, rules };
    const existing = await cp.client.tryGet(ROLES, NS, SA);
    if (existing) await cp.client.patch(ROLES, NS, SA, 'merge', { rules });
    else await cp.client.create(ROLES, role);
  };
  const gitFailure = (name: string, reason: string) => eventually(`GitSync ${NS}/${name} Ready=False ${reason}`, async () => {
    const st = await gitSyncStatus(cp.client, NS, name);
    return ready(st).status === 'False' && ready(st).reason === reason ? ready(st) : undefined;
  });
  const assertNamesFix = (message: string, secret: string, field: string) => {
    assert.ok(message.includes(`Secret ${NS}/${secret}`), message);
    assert.ok(message.includes(field), message);
    assert.ok(message.includes(`ServiceAccount ${NS}/${SA}`), message);
    assert.ok(message.includes(`resourceNames: [${secret}]`), message);
  };

  before(async () => {
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await installCrd(cp.client, 'crd-imagepolicies.yaml', 'imagepolicies.keelson.dev');
    // The tenant's "registry": records what it is sent and asks for Basic credentials, as a real one would.
    registry = http.createServer((req, res) => {
      registrySaw.push(req.headers.authorization ?? 'none');
      // One public repository (for image updates): a tag list and a digest, no credentials needed.
      if (req.url?.startsWith('/v2/public/app/tags/list')) { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"name":"public/app","tags":["1.0.0","1.1.0"]}'); return; }
      if (req.url === '/v2/public/app/manifests/1.1.0') { res.writeHead(200, { 'Docker-Content-Digest': `sha256:${'a'.repeat(64)}`, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }); res.end(); return; }
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    registryHost = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    await createNamespace(cp.client, NS);
    await cp.client.create(SERVICEACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA, namespace: NS } });
    await tenantRole([]);
    await cp.client.create(ROLEBINDINGS, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: SA, namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SA }, subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }],
    });
    // The Secrets the tenant may not read: credentials the test's git server accepts, so a leak would even work.
    const { username, password } = servers.httpAuth;
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials', namespace: NS }, stringData: { username, password } });
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'corp-proxy', namespace: NS }, stringData: { address: 'http://127.0.0.1:9', username: 'proxy-user', password: 'proxy-pass-s3cr3t' } });
    const auths = { [registryHost]: { username: 'registry-user', password: 'registry-pass-s3cr3t' } };
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-credentials', namespace: NS }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': JSON.stringify({ auths }) } });
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    // Keelson runs as the cluster administrator here: it could read every Secret, which is the point.
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, '--allow-insecure-git', '--allow-insecure-registries']);
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop(), new Promise((r) => registry ? registry.close(r) : r(undefined))]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('a GitSync naming Secrets its ServiceAccount may not read sends nothing, says SecretForbidden and the fix; the Role rule makes it work', async () => {
    const repo = servers.repo('evil');
    const rev = `main@sha1:${repo.write({ 'settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  v: "1"\n' }).commit('one')}`;
    await createGitSync(cp.client, NS, 'creds', { url: servers.httpUrl('evil'), secretRef: { name: 'db-credentials' }, serviceAccountName: SA });
    await createGitSync(cp.client, NS, 'proxied', { url: servers.httpUrl('evil'), proxySecretRef: { name: 'corp-proxy' }, serviceAccountName: SA });
    assertNamesFix((await gitFailure('creds', 'SecretForbidden')).message ?? '', 'db-credentials', 'spec.secretRef');
    assertNamesFix((await gitFailure('proxied', 'SecretForbidden')).message ?? '', 'corp-proxy', 'spec.proxySecretRef');
    // Several attempts later (interval 1s), still nothing: the server never saw a credential.
    await eventually('three failed runs of each', async () => {
      const text = await ctl.metrics();
      return ['creds', 'proxied'].every((name) => metricValue(text, 'keelson_gitsync_runs_total', { namespace: NS, name, result: 'failure' }) >= 3);
    });
    assert.deepEqual(servers.httpRequests.filter((r) => r.includes('/evil.git') && !r.startsWith('none ')), []);
    const st = await gitSyncStatus(cp.client, NS, 'creds');
    assert.ok(!JSON.stringify(st).includes(servers.httpAuth.password));
    assert.ok(!ctl.logText().includes(servers.httpAuth.password) && !ctl.logText().includes('proxy-pass-s3cr3t'));

    // The tenant is given exactly that Secret: the same GitSync now authenticates with it and applies.
    await tenantRole(['db-credentials']);
    await waitApplied(cp.client, NS, 'creds', rev);
    assert.ok(servers.httpRequests.some((r) => r.startsWith('Basic ') && r.includes('/evil.git')));
  });

  it('an ImagePolicy naming a registry Secret its ServiceAccount may not read sends no Authorization header', async () => {
    const policy = (name: string, spec: Record<string, unknown>) => cp.client.create(IMAGEPOLICIES, { apiVersion: 'keelson.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name, namespace: NS }, spec: { image: `${registryHost}/team/app`, insecure: true, interval: '10s', secretRef: { name: 'registry-credentials' }, policy: { semver: { range: '*' } }, ...spec } });
    const status = async (name: string) => ((await cp.client.get(IMAGEPOLICIES, NS, name)) as KubeObject & { status?: ImagePolicyStatus }).status ?? {};
    const readyOf = async (name: string) => (await status(name)).conditions?.find((c) => c.type === 'Ready');
    await policy('as-tenant', { serviceAccountName: SA });
    // No ServiceAccount outside the controller namespace, and no --default-service-account: no Secret is read at all.
    await policy('no-identity', {});
    const forbidden = await eventually('ImagePolicy as-tenant SecretForbidden', async () => { const c = await readyOf('as-tenant'); return c?.reason === 'SecretForbidden' ? c : undefined; });
    assertNamesFix(forbidden.message ?? '', 'registry-credentials', 'spec.secretRef');
    const refused = await eventually('ImagePolicy no-identity ServiceAccountRequired', async () => { const c = await readyOf('no-identity'); return c?.reason === 'ServiceAccountRequired' ? c : undefined; });
    assert.match(refused.message ?? '', /spec\.serviceAccountName/);
    assert.deepEqual(registrySaw.filter((a) => a !== 'none'), []);

    // With the rule, the credentials go to the registry, as the tenant is allowed to send them.
    await tenantRole(['db-credentials', 'registry-credentials']);
    await eventually('the registry to receive the credentials the tenant may read', () => registrySaw.some((a) => a.startsWith('Basic ')), 40_000);
    assert.ok(!ctl.logText().includes('registry-pass-s3cr3t'));
  });

  it('image updates for a GitSync whose ServiceAccount may not read its Git Secret push nothing and say why', async () => {
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ci-push', namespace: NS }, stringData: { username: servers.httpAuth.username, password: servers.httpAuth.password } });
    await cp.client.create(IMAGEPOLICIES, { apiVersion: 'keelson.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'public', namespace: NS }, spec: { image: `${registryHost}/public/app`, insecure: true, interval: '10s', policy: { semver: { range: '*' } } } });
    await eventually('ImagePolicy public to find 1.1.0', async () => ((await cp.client.get(IMAGEPOLICIES, NS, 'public')) as KubeObject & { status?: ImagePolicyStatus }).status?.latestRef?.endsWith(':1.1.0'));
    const repo = servers.repo('updates');
    repo.write({ 'deploy/values.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: values}\ndata:\n  tag: "1.0.0" # {"$imagepolicy": "${NS}:public:tag"}\n` }).commit('initial');
    await createGitSync(cp.client, NS, 'updates', {
      url: servers.httpUrl('updates'), secretRef: { name: 'ci-push' }, serviceAccountName: SA, path: 'deploy', interval: '10m',
      imageUpdate: { author: { name: 'Keelson Bot', email: 'bot@example.com' }, messageTemplate: 'chore: update images' },
    });
    const event = await eventually('ImageUpdateFailed naming the Secret', async () => (await eventsFor(cp.client, NS, 'updates')).find((e) => (e as { reason?: string }).reason === 'ImageUpdateFailed'));
    assertNamesFix((event as { message?: string }).message ?? '', 'ci-push', 'spec.secretRef');
    assert.deepEqual(servers.httpRequests.filter((r) => r.includes('/updates.git') && !r.startsWith('none ')), []);
    assert.ok(!ctl.logText().includes(servers.httpAuth.password));
  });
});

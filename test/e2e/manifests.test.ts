// manifests/ against a real kube-apiserver: every object is accepted by a server-side dry-run (Namespace and CRDs
// are created for real first, as objects depend on them), and the controller runs with nothing but the manifests'
// RBAC: it wins the Lease, syncs its caches and logs no forbidden error; the opt-in binding is what lets Git sync
// apply arbitrary objects.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, isForbidden } from '../../src/kube/client.js';
import { recordOf } from '../../src/kube/lease-decision.js';
import { CONFIGMAPS, CRDS, LEASES, type ResourceType } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { HOW_TO_GET, findBinary } from '../support/binaries.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { MANIFESTS, type ManifestObject, exists, kustomizationResources, manifestObjects } from '../support/manifests.js';
import { eventually } from '../support/wait.js';

const rt = (group: string, version: string, plural: string, kind: string, namespaced = true): ResourceType => ({ group, version, plural, kind, namespaced });
/** The kinds manifests/ holds; a new kind fails the test until it is added here. */
const TYPES: Record<string, ResourceType> = {
  Namespace: rt('', 'v1', 'namespaces', 'Namespace', false),
  CustomResourceDefinition: CRDS,
  ServiceAccount: rt('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  Service: rt('', 'v1', 'services', 'Service'),
  ClusterRole: rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  ClusterRoleBinding: rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  Role: rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  RoleBinding: rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  Deployment: rt('apps', 'v1', 'deployments', 'Deployment'),
};
const typeOf = (m: ManifestObject): ResourceType => {
  const t = TYPES[m.object.kind!];
  assert.ok(t, `${m.file}: kind ${m.object.kind} is not in this test's TYPES table`);
  assert.equal(m.object.apiVersion, t.group ? `${t.group}/${t.version}` : t.version, `${m.file}: apiVersion`);
  return t;
};
const name = (m: ManifestObject) => `${m.file}: ${m.object.kind} ${m.object.metadata.name}`;

/**
 * Paths of `sent` the server did not keep. A 1.20 apiserver silently drops unknown fields (no strict validation), so
 * a misspelt field such as readOnlyRootFileSystem would pass a dry-run: comparing what comes back catches it.
 */
function dropped(sent: unknown, got: unknown, at = ''): string[] {
  if (sent !== null && typeof sent === 'object') {
    if (got === null || typeof got !== 'object') return [at || '.'];
    return Object.entries(sent as Record<string, unknown>).flatMap(([k, v]) => dropped(v, (got as Record<string, unknown>)[k], Array.isArray(sent) ? `${at}[${k}]` : `${at}.${k}`));
  }
  return sent === got ? [] : [`${at} (sent ${JSON.stringify(sent)}, kept ${JSON.stringify(got)})`];
}

describe('manifests on a real apiserver', () => {
  let cp: ControlPlane;
  const running: RunningController[] = [];
  // The PrometheusRule needs the Prometheus Operator's CRD; promtool checks it in test/unit/ship/alerts.test.ts.
  const objects = manifestObjects(true).filter((m) => m.object.kind !== 'PrometheusRule');
  const crds = objects.filter((m) => m.object.kind === 'CustomResourceDefinition');

  before(async () => { cp = await startControlPlane(); });
  after(async () => {
    await Promise.all(running.map((c) => c.stop().catch(() => undefined)));
    await cp?.stop();
  });

  it('accepts every object in a server-side dry-run (Namespace and CRDs created for real first)', async () => {
    for (const m of objects.filter((o) => o.object.kind === 'Namespace')) await cp.client.create(typeOf(m), m.object);
    for (const m of crds) assert.deepEqual(dropped(m.object, await cp.client.create(CRDS, m.object)), [], `${name(m)}: fields the apiserver dropped`);
    for (const m of crds) {
      await eventually(`${name(m)} to be Established`, async () => {
        const crd = await cp.client.get(CRDS, undefined, m.object.metadata.name!);
        return ((crd.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [])
          .some((c) => c.type === 'Established' && c.status === 'True');
      });
    }
    const rest = objects.filter((o) => o.object.kind !== 'Namespace' && o.object.kind !== 'CustomResourceDefinition');
    assert.ok(rest.length >= 8);
    for (const m of rest) {
      // As `kubectl create --dry-run=server` and `kubectl apply --server-side --dry-run=server` would send it.
      for (const how of ['create', 'apply'] as const) {
        let out: KubeObject;
        try {
          out = how === 'create'
            ? await cp.client.create(typeOf(m), m.object, { dryRun: true })
            : await cp.client.apply(typeOf(m), m.object, { dryRun: true, fieldManager: 'keelson-install' });
        } catch (e) {
          assert.fail(`${name(m)} rejected (${how}): ${e instanceof Error ? e.message : String(e)}`);
        }
        assert.deepEqual(dropped(m.object, out), [], `${name(m)}: fields the apiserver dropped (${how})`);
      }
    }
  });

  it('kubectl apply -k manifests/ --dry-run=server accepts the kustomization, and the opt-in file', () => {
    const kubectl = findBinary('kubectl');
    assert.ok(kubectl, `kubectl is missing. ${HOW_TO_GET}`);
    const missing = kustomizationResources().filter((f) => !exists(join(MANIFESTS, f)));
    assert.deepEqual(missing, [], 'kustomization.yaml lists files that do not exist');
    const run = (...args: string[]) => execFileSync(kubectl, ['--kubeconfig', cp.kubeconfigPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const out = run('apply', '-k', MANIFESTS, '--dry-run=server');
    for (const m of objects.filter((o) => !o.file.startsWith('optional/'))) {
      const kind = m.object.kind!.toLowerCase();
      assert.match(out, new RegExp(`^${kind}[^ ]*/${m.object.metadata.name} .*\\(server dry run\\)$`, 'm'), `${name(m)} not in:\n${out}`);
    }
    assert.match(run('apply', '-f', join(MANIFESTS, 'optional', 'gitsync-apply.yaml'), '--dry-run=server'), /keelson-gitsync-apply .*\(server dry run\)/);
  });

  it('runs the controller with only the ServiceAccount rights the manifests grant', async () => {
    // The base install for real (the Deployment aside: there are no nodes here), then a token for the ServiceAccount.
    const install = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.object.kind!) && !o.file.includes('/'));
    for (const m of install) await cp.client.create(typeOf(m), m.object);
    const tr = await cp.client.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/keelson-system/serviceaccounts/keelson/token', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    const kubeconfig = join(cp.dir, 'kubeconfig-keelson-sa');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
      clusters: [{ name: 'c', cluster: { server: cp.server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'keelson', user: { token: tr.status.token } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'keelson' } }],
    }));

    // Every feature runs under exactly these rights.
    const c = await startController(cp, ['--kubeconfig', kubeconfig, '--leader-elect', '--leader-election-lease-duration', '3s',
      '--leader-election-renew-deadline', '2s', '--leader-election-retry-period', '500ms', '--key-size', '2048']);
    running.push(c);
    await eventually('the controller to lead with the ServiceAccount', async () => c.manager.isLeader);
    const lease = recordOf((await cp.client.get(LEASES, 'keelson-system', 'keelson')).spec);
    assert.match(lease.holderIdentity, /_/);
    // Renewals (get + update by name) work too: let a few retry periods pass.
    const renewed = lease.renewTime;
    await eventually('a renewal', async () => recordOf((await cp.client.get(LEASES, 'keelson-system', 'keelson')).spec).renewTime !== renewed);
    assert.equal((await fetch(`${c.httpUrl}/readyz`)).status, 200);
    const denied = c.logs.filter((l) => /forbidden|\b403\b/i.test(JSON.stringify(l)));
    assert.deepEqual(denied, [], 'no request of the controller was forbidden');
    await c.stop();
    assert.equal(recordOf((await cp.client.get(LEASES, 'keelson-system', 'keelson')).spec).holderIdentity, '', 'released on stop');

    // Without the opt-in binding the account cannot write arbitrary objects; with it, Git sync can.
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const sa = new KubeClient(kc);
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-git', namespace: 'default' }, data: { a: 'b' } };
    try {
      await assert.rejects(sa.create(CONFIGMAPS, cm, { dryRun: true }), isForbidden);
      const optIn = objects.find((o) => o.file.startsWith('optional/'))!;
      await cp.client.create(typeOf(optIn), optIn.object);
      await eventually('the opt-in binding to let the account apply', async () => (await sa.create(CONFIGMAPS, cm, { dryRun: true })).metadata.name === 'from-git');
    } finally { sa.close(); }
  });
});

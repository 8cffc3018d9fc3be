// The UI's view models: GitSync rows, unsynced SealedSecrets, Keelson events, inventory trees, forbidden sections.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GitSyncObject } from '../../../src/gitsync/spec.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { commitOf, formatAge, gitSyncDetail, gitSyncRows, historyRows, inventoryTree, keelsonEvents, leaderOf, rolloutOf, sealedSecretDetail, sealedSecretProblems, sectionError, workloadDetail } from '../../../src/ui/view-models.js';

const NOW = Date.parse('2026-01-02T00:00:00Z');
const SHA = '0123456789abcdef0123456789abcdef01234567';

const gs = (name: string, status: GitSyncObject['status'], spec: Record<string, unknown> = { url: 'git://x/r.git' }): GitSyncObject => ({
  apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name, namespace: 'ns', creationTimestamp: '2026-01-01T23:00:00Z' }, spec, status,
});

describe('ui view models', () => {
  it('formats ages like kubectl and ignores unknown or future times', () => {
    assert.equal(formatAge('2026-01-01T23:59:18Z', NOW), '42s');
    assert.equal(formatAge('2026-01-01T23:55:00Z', NOW), '5m');
    assert.equal(formatAge('2026-01-01T21:00:00Z', NOW), '3h');
    assert.equal(formatAge('2025-12-29T00:00:00Z', NOW), '4d');
    assert.equal(formatAge(undefined, NOW), '');
    assert.equal(formatAge('nonsense', NOW), '');
    assert.equal(formatAge('2027-01-01T00:00:00Z', NOW), '');
  });

  it('takes the commit from a revision, and nothing from anything else', () => {
    assert.equal(commitOf(`main@sha1:${SHA}`), SHA.slice(0, 12));
    assert.equal(commitOf(`v1.2.3@sha256:${'a'.repeat(64)}`), 'a'.repeat(12));
    for (const bad of [undefined, '', 'main', 'main@sha1:', 'main@sha1:XYZ', '<script>@sha1:<b>']) assert.equal(commitOf(bad), '');
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => { const c = commitOf(s); assert.ok(c === '' || /^[0-9a-f]{7,12}$/.test(c)); }));
  });

  it('makes GitSync rows sorted by namespace and name, with Ready, revision, drift and suspend', () => {
    const rows = gitSyncRows([
      gs('b', { lastAppliedRevision: `main@sha1:${SHA}`, drifted: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'applied 3 objects' }] }),
      gs('a', undefined, { url: 'u', suspend: true }),
    ], NOW);
    assert.deepEqual(rows.map((r) => r.name), ['a', 'b']);
    assert.deepEqual(rows[0], { namespace: 'ns', name: 'a', ready: 'Unknown', reason: '', message: '', revision: '', commit: '', age: '60m', drifted: 0, suspended: true });
    assert.equal(rows[1]!.ready, 'True');
    assert.equal(rows[1]!.commit, SHA.slice(0, 12));
    assert.equal(rows[1]!.drifted, 2);
  });

  it('survives hostile status shapes', () => {
    const weird = gs('w', { conditions: 'no' as never, inventory: [{ id: 42 }, null, { id: 'a_b' }] as never, drifted: '9' as never });
    const d = gitSyncDetail(weird, NOW);
    assert.equal(d.row.ready, 'Unknown');
    assert.equal(d.row.drifted, 0);
    assert.deepEqual(d.conditions, []);
    assert.deepEqual(d.inventory, []);
  });

  it('shows status.history newest first, with the short commit, skipping malformed entries', () => {
    const entry = (n: number) => ({ revision: `main@sha1:${String(n).repeat(40)}`, message: `change ${n}`, appliedAt: `2026-01-01T23:5${n}:00Z`, objects: n, result: `${n} created` });
    const d = gitSyncDetail(gs('h', { history: [entry(1), null, { revision: 7 }, entry(2)] as never }), NOW);
    assert.deepEqual(d.history.map((h) => [h.commit, h.message, h.age, h.objects, h.result]), [
      ['2'.repeat(12), 'change 2', '8m', 2, '2 created'],
      ['1'.repeat(12), 'change 1', '9m', 1, '1 created'],
    ]);
    assert.deepEqual(gitSyncDetail(gs('none', {}), NOW).history, []);
    assert.deepEqual(historyRows('nope', NOW), []);
    assert.equal(historyRows(Array.from({ length: 30 }, (_, i) => entry(i % 10)), NOW).length, 10);
  });

  it('lists only SealedSecrets that are not Synced, without their ciphertext', () => {
    const ss = (name: string, conditions?: unknown[]): KubeObject => ({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace: 'ns' }, spec: { encryptedData: { k: 'CIPHERTEXT' } }, status: conditions ? { conditions } : undefined });
    const rows = sealedSecretProblems([
      ss('ok', [{ type: 'Synced', status: 'True' }]),
      ss('bad', [{ type: 'Synced', status: 'False', reason: 'ErrUnsealFailed', message: 'no key could decrypt' }]),
      ss('new'),
    ]);
    assert.deepEqual(rows, [
      { namespace: 'ns', name: 'bad', reason: 'ErrUnsealFailed', message: 'no key could decrypt' },
      { namespace: 'ns', name: 'new', reason: 'Pending', message: 'not handled by the controller yet' },
    ]);
    assert.ok(!JSON.stringify(rows).includes('CIPHERTEXT'));
  });

  it('keeps Keelson events only, newest first, bounded', () => {
    const ev = (i: number, component: string): KubeObject => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name: `e${i}`, namespace: 'ns' }, source: { component }, involvedObject: { kind: 'Deployment', name: 'web' },
      reason: i % 2 ? 'Reloaded' : 'RolloutComplete', message: `m${i}`, type: 'Normal', lastTimestamp: new Date(NOW - i * 1000).toISOString(), count: 1,
    });
    const list = [...Array.from({ length: 80 }, (_, i) => ev(i, 'keelson')), ev(0, 'kubelet')];
    const rows = keelsonEvents(list, NOW);
    assert.equal(rows.length, 50);
    assert.equal(rows[0]!.message, 'm0');
    assert.equal(rows[0]!.object, 'Deployment/web');
    assert.equal(rows[1]!.reason, 'Reloaded');
  });

  it('groups the inventory by kind and namespace', () => {
    const tree = inventoryTree([
      { id: 'ns_web_apps_Deployment', v: 'v1' }, { id: 'ns_cfg__ConfigMap', v: 'v1' }, { id: 'other_a__ConfigMap', v: 'v1' },
      { id: '_team__Namespace', v: 'v1' }, { id: 'broken', v: 'v1' }, { id: 'ns_b__ConfigMap', v: 'v1' },
    ]);
    assert.deepEqual(tree, [
      { kind: 'ConfigMap', namespaces: [{ namespace: 'ns', names: ['b', 'cfg'] }, { namespace: 'other', names: ['a'] }] },
      { kind: 'Deployment.apps', namespaces: [{ namespace: 'ns', names: ['web'] }] },
      { kind: 'Namespace', namespaces: [{ namespace: '(cluster)', names: ['team'] }] },
    ]);
    assert.equal(gitSyncDetail(gs('x', { inventory: [{ id: 'ns_web_apps_Deployment', v: 'v1' }, { id: 'ns_cfg__ConfigMap', v: 'v1' }] }), NOW).inventoryCount, 2);
  });

  it('shows a 403 as the forbidden state and anything else as an error', () => {
    assert.deepEqual(sectionError(403, 'GitSyncs', 'forbidden: User "x" cannot list'), { state: 'forbidden', message: 'your Kubernetes user may not list GitSyncs' });
    assert.deepEqual(sectionError(500, 'GitSyncs', 'boom'), { state: 'error', message: 'cannot list GitSyncs: boom' });
    assert.equal(sectionError(undefined, 'Events', 'ECONNREFUSED').state, 'error');
  });
});

describe('ui workload view model', () => {
  const deployment = (status: Record<string, unknown>, extra: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ns', generation: 2, annotations: extra },
    spec: {
      replicas: 2,
      template: { spec: {
        volumes: [{ name: 'a', configMap: { name: 'cfg' } }, { name: 'b', secret: { secretName: 'creds' } }, { name: 'p', projected: { sources: [{ configMap: { name: 'proj' } }, { secret: { name: 'tls' } }] } }],
        initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 'init-s' } }] }],
        containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'cfg' } }], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }, { name: 'Y', valueFrom: { configMapKeyRef: { name: 'other', key: 'k' } } }] }],
      } },
    },
    status,
  });

  it('lists every ConfigMap and Secret the pod template names, once', () => {
    const d = workloadDetail('Deployment', deployment({}), [], NOW);
    assert.deepEqual(d.references.map((r) => `${r.kind}/${r.name}`), ['ConfigMap/cfg', 'ConfigMap/other', 'ConfigMap/proj', 'Secret/creds', 'Secret/init-s', 'Secret/tls']);
  });

  it('decides the rollout state like kubectl rollout status', () => {
    assert.equal(rolloutOf('Deployment', deployment({ observedGeneration: 1 })).state, 'Progressing');
    assert.equal(rolloutOf('Deployment', deployment({ observedGeneration: 2, updatedReplicas: 1, availableReplicas: 2, readyReplicas: 2 })).message, '1 of 2 updated');
    assert.equal(rolloutOf('Deployment', deployment({ observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 })).state, 'Complete');
    assert.equal(rolloutOf('Deployment', deployment({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }] })).state, 'Failed');
    const ds: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberReady: 3, numberAvailable: 3 } };
    assert.equal(rolloutOf('DaemonSet', ds).state, 'Complete');
  });

  it('tells the last-reload story, and ignores what is not Keelson JSON', () => {
    const lr = JSON.stringify({ at: '2026-01-01T23:55:00Z', trigger: 'ConfigMap ns/cfg', change: 'data.k changed', hash: 'h' });
    assert.deepEqual(workloadDetail('Deployment', deployment({}, { 'keelson.dev/last-reload': lr }), [], NOW).lastReload, { at: '2026-01-01T23:55:00Z', age: '5m', trigger: 'ConfigMap ns/cfg', change: 'data.k changed' });
    assert.equal(workloadDetail('Deployment', deployment({}, { 'keelson.dev/last-reload': 'abc123' }), [], NOW).lastReload, undefined);
    assert.equal(workloadDetail('Deployment', deployment({}, { 'keelson.dev/last-reload': '{"at":1}' }), [], NOW).lastReload, undefined);
  });
});

describe('ui controller health', () => {
  const lease = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'keelson' }, spec });
  it('shows the leader and whether its Lease is fresh', () => {
    assert.deepEqual(leaderOf(lease({ holderIdentity: 'pod-a', renewTime: '2026-01-01T23:59:55Z', leaseDurationSeconds: 15 }), NOW), [{ holder: 'pod-a', renewed: '5s', fresh: true }]);
    assert.equal(leaderOf(lease({ holderIdentity: 'pod-a', renewTime: '2026-01-01T23:59:00Z', leaseDurationSeconds: 15 }), NOW)[0]!.fresh, false);
    assert.deepEqual(leaderOf(lease({ holderIdentity: '' }), NOW), []);
    assert.deepEqual(leaderOf(undefined, NOW), []);
    assert.equal(leaderOf(lease({ holderIdentity: 'x', renewTime: 'junk' }), NOW)[0]!.fresh, false);
  });
});

describe('ui SealedSecret page', () => {
  it('shows status, scope, type and key names, never the ciphertext', () => {
    const ss: KubeObject = {
      apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'ns', annotations: { 'sealedsecrets.bitnami.com/namespace-wide': 'true' } },
      spec: { encryptedData: { user: 'CIPHER1', password: 'CIPHER2' }, template: { type: 'kubernetes.io/basic-auth' } },
      status: { conditions: [{ type: 'Synced', status: 'False', reason: 'ErrUnsealFailed', message: 'no key could decrypt', lastTransitionTime: '2026-01-01T23:59:00Z' }] },
    };
    const d = sealedSecretDetail(ss, NOW);
    assert.deepEqual(d, { namespace: 'ns', name: 'db', scope: 'namespace-wide', keys: ['password', 'user'], secretType: 'kubernetes.io/basic-auth', synced: { status: 'False', reason: 'ErrUnsealFailed', message: 'no key could decrypt', age: '60s' } });
    assert.ok(!JSON.stringify(d).includes('CIPHER'));
    assert.equal(sealedSecretDetail({ ...ss, status: undefined, spec: {} }, NOW).synced.reason, 'Pending');
  });
});

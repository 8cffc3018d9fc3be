// Shared steps of the GitSync e2e tests: install the CRD from manifests/, create namespaces and GitSyncs, read
// their status, and run CLI commands in-process with captured output.

import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.js';
import type { GitSyncObject, GitSyncStatus } from '../../src/gitsync/spec.js';
import type { KubeClient } from '../../src/kube/client.js';
import { CRDS, EVENTS, GITSYNCS, NAMESPACES, type ResourceType } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { eventually } from './wait.js';

export const CLUSTERROLEBINDINGS: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false };

export async function installGitSyncCrd(client: KubeClient): Promise<void> {
  const crd = parse(readFileSync(new URL('../../manifests/crd-gitsyncs.yaml', import.meta.url), 'utf8')) as KubeObject;
  await client.apply(CRDS, crd, { fieldManager: 'keelson-test', force: true });
  await eventually('the GitSync CRD to be Established', async () => {
    const c = await client.get(CRDS, undefined, 'gitsyncs.keelson.dev');
    return ((c.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True');
  });
  // kube-apiserver 1.20 built with Go >= 1.18 and its vendored reflect2 1.0.1 segfaults on the first custom
  // resource it decodes; say so instead of letting every test time out.
  try {
    await client.create(GITSYNCS, { apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'probe', namespace: 'default' }, spec: { url: 'git://probe/x.git' } }, { dryRun: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNRESET' || code === 'ECONNREFUSED') {
      throw new Error('kube-apiserver crashed decoding a custom resource: its vendored github.com/modern-go/reflect2 must be 1.0.2 for Go >= 1.18 (rebuild the control plane with the patched vendor folder)');
    }
    throw err;
  }
}

/**
 * GitSyncs outside the controller namespace apply as a ServiceAccount. The GitSync e2e suites run their controller
 * with these flags and bind every ServiceAccount to cluster-admin through the group the API server derives for an
 * impersonated ServiceAccount (system:serviceaccounts), so their GitSyncs apply anything, as before; the tenancy
 * limits themselves are tested in gitsync-identity.test.ts.
 */
export const TEST_SERVICE_ACCOUNT = 'gitsync';
export const GITSYNC_SA_FLAGS: readonly string[] = ['--default-service-account', TEST_SERVICE_ACCOUNT];

export async function letServiceAccountsApply(client: KubeClient): Promise<void> {
  await client.create(CLUSTERROLEBINDINGS, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'e2e-gitsync-serviceaccounts' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts' }],
  });
}

export async function createNamespace(client: KubeClient, name: string): Promise<string> {
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export async function createGitSync(client: KubeClient, namespace: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Promise<void> {
  await client.create(GITSYNCS, { apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name, namespace, annotations }, spec: { interval: '1s', ...spec } });
}

export async function gitSyncStatus(client: KubeClient, namespace: string, name: string): Promise<GitSyncStatus> {
  return (await client.get<GitSyncObject>(GITSYNCS, namespace, name)).status ?? {};
}

export function ready(st: GitSyncStatus): { status?: string; reason?: string; message?: string } {
  return st.conditions?.find((c) => c.type === 'Ready') ?? {};
}

/** Waits until the GitSync has applied exactly this revision and is Ready. */
export async function waitApplied(client: KubeClient, namespace: string, name: string, revision: string, timeoutMs = 30_000): Promise<GitSyncStatus> {
  return eventually(`GitSync ${namespace}/${name} Ready at ${revision}`, async () => {
    const st = await gitSyncStatus(client, namespace, name);
    return st.lastAppliedRevision === revision && ready(st).status === 'True' ? st : undefined;
  }, timeoutMs);
}

export async function eventsFor(client: KubeClient, namespace: string, name: string): Promise<KubeObject[]> {
  const list = await client.list(EVENTS, { namespace });
  return list.items.filter((e) => (e.involvedObject as { name?: string; kind?: string }).name === name && (e.involvedObject as { kind?: string }).kind === 'GitSync');
}

/** Runs `keelson <args>` in-process; returns exit code and output. */
export async function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(c, _e, cb) { append(String(c)); cb(); } });
  const code = await main(args, { stdin: new PassThrough(), stdout: sink((s) => { stdout += s; }), stderr: sink((s) => { stderr += s; }), env: {} });
  return { code, stdout, stderr };
}

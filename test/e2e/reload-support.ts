// Shared helpers for the reload e2e files: namespaces, workloads and configs as plain objects, ReplicaSet counts
// (a roll of a Deployment is a new ReplicaSet), Events, and waits.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import type { KubeClient } from '../../src/kube/client.js';
import { CONFIGMAPS, DAEMONSETS, DEPLOYMENTS, EVENTS, NAMESPACES, REPLICASETS, SECRETS, STATEFULSETS, type ResourceType } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { freePort } from '../support/ports.js';
import { delay, eventually } from '../support/wait.js';

export const CONFIG_HASH = 'keelson.dev/config-hash';
export const OBSERVED = 'keelson.dev/observed';
export const LAST_RELOAD = 'keelson.dev/last-reload';

/** Longer than the default debounce (1s) plus a margin: the wait before asserting that something did NOT happen. */
export const QUIET_MS = 3500;

export async function createNamespace(client: KubeClient, name: string, labels: Record<string, string> = {}): Promise<string> {
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  return name;
}

export function configMap(ns: string, name: string, data: Record<string, string>, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, annotations, labels }, data };
}

export function secret(ns: string, name: string, stringData: Record<string, string>, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns, annotations }, type: 'Opaque', stringData };
}

export interface PodOptions {
  readonly image?: string;
  readonly volumesFrom?: readonly { kind: 'ConfigMap' | 'Secret'; name: string; optional?: boolean }[];
  readonly envFrom?: readonly { kind: 'ConfigMap' | 'Secret'; name: string; key: string; optional?: boolean }[];
  readonly templateAnnotations?: Record<string, string>;
}

export function podTemplate(app: string, o: PodOptions = {}): Record<string, unknown> {
  const volumes = (o.volumesFrom ?? []).map((v, i) => ({
    name: `v${i}`,
    ...(v.kind === 'ConfigMap' ? { configMap: { name: v.name, optional: v.optional } } : { secret: { secretName: v.name, optional: v.optional } }),
  }));
  const env = (o.envFrom ?? []).map((e, i) => ({
    name: `E${i}`,
    valueFrom: e.kind === 'ConfigMap' ? { configMapKeyRef: { name: e.name, key: e.key, optional: e.optional } } : { secretKeyRef: { name: e.name, key: e.key, optional: e.optional } },
  }));
  return {
    metadata: { labels: { app }, annotations: o.templateAnnotations ?? {} },
    spec: {
      containers: [{ name: 'app', image: o.image ?? 'example/app:1', env, volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/cfg/${v.name}` })) }],
      volumes,
    },
  };
}

export function deployment(ns: string, name: string, annotations: Record<string, string>, pod: PodOptions = {}, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns, annotations },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: podTemplate(name, pod), ...extra },
  };
}

export function statefulSet(ns: string, name: string, annotations: Record<string, string>, pod: PodOptions = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: ns, annotations },
    spec: { replicas: 1, serviceName: name, selector: { matchLabels: { app: name } }, template: podTemplate(name, pod) },
  };
}

export function daemonSet(ns: string, name: string, annotations: Record<string, string>, pod: PodOptions = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: ns, annotations },
    spec: { selector: { matchLabels: { app: name } }, template: podTemplate(name, pod) },
  };
}

export async function setData(client: KubeClient, ns: string, name: string, data: Record<string, string>): Promise<void> {
  await client.patch(CONFIGMAPS, ns, name, 'merge', { data });
}

export async function setSecret(client: KubeClient, ns: string, name: string, stringData: Record<string, string>): Promise<void> {
  await client.patch(SECRETS, ns, name, 'merge', { stringData });
}

/** ReplicaSets owned by a Deployment: one after creation, one more per roll. */
export async function replicaSetCount(client: KubeClient, ns: string, name: string): Promise<number> {
  const list = await client.list(REPLICASETS, { namespace: ns });
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name)).length;
}

export async function waitForReplicaSets(client: KubeClient, ns: string, name: string, n: number, timeoutMs = 30_000): Promise<void> {
  await eventually(`${n} ReplicaSet(s) for Deployment ${ns}/${name}`, async () => (await replicaSetCount(client, ns, name)) === n, timeoutMs);
}

export async function getWorkload(client: KubeClient, t: ResourceType, ns: string, name: string): Promise<KubeObject> {
  return await client.get(t, ns, name);
}

export const templateAnnotations = (w: KubeObject): Record<string, string> =>
  ((w.spec as { template?: { metadata?: { annotations?: Record<string, string> } } }).template?.metadata?.annotations) ?? {};

export async function configHash(client: KubeClient, t: ResourceType, ns: string, name: string): Promise<string | undefined> {
  return templateAnnotations(await client.get(t, ns, name))[CONFIG_HASH];
}

export async function waitForObserved(client: KubeClient, t: ResourceType, ns: string, name: string): Promise<Record<string, string>> {
  return await eventually(`baseline on ${t.kind} ${ns}/${name}`, async () => {
    const o = (await client.get(t, ns, name)).metadata.annotations?.[OBSERVED];
    return o ? (JSON.parse(o) as { configs: Record<string, string> }).configs : undefined;
  });
}

export interface EventInfo { reason: string; type: string; message: string; kind: string; name: string; count: number }

export async function eventsFor(client: KubeClient, ns: string, name: string): Promise<EventInfo[]> {
  const list = await client.list(EVENTS, { namespace: ns });
  return list.items
    .filter((e) => (e.involvedObject as { name?: string }).name === name)
    .map((e) => ({ reason: e.reason as string, type: e.type as string, message: e.message as string, kind: (e.involvedObject as { kind: string }).kind, name, count: (e.count as number) ?? 1 }));
}

export async function waitForEvent(client: KubeClient, ns: string, name: string, reason: string, timeoutMs = 30_000): Promise<EventInfo> {
  return await eventually(`Event ${reason} on ${ns}/${name}`, async () => (await eventsFor(client, ns, name)).find((e) => e.reason === reason), timeoutMs);
}

/** Waits out the debounce window with a margin, then checks that the Deployment still has n ReplicaSets. */
export async function assertStillReplicaSets(client: KubeClient, ns: string, name: string, n: number): Promise<void> {
  await delay(QUIET_MS);
  assert.equal(await replicaSetCount(client, ns, name), n, `Deployment ${ns}/${name} rolled although it should not have`);
}

export { CONFIGMAPS, DAEMONSETS, DEPLOYMENTS, SECRETS, STATEFULSETS };

/**
 * Starts one leader-electing reload replica (Lease 3 s, renew deadline 2 s) as `pod`, output discarded; the caller
 * keeps the child to kill it. The failover tests run two or three of these.
 */
export async function spawnReplica(root: string, kubeconfigPath: string, systemNs: string, pod: string, extraArgs: readonly string[] = []): Promise<ChildProcess> {
  return spawn(process.execPath, [
    'bin/keelson.js', 'controller', '--kubeconfig', kubeconfigPath, '--controller-namespace', systemNs,
    '--http-addr', `127.0.0.1:${await freePort()}`, '--metrics-addr', '0', '--disable-sealing', '--disable-gitsync',
    '--leader-elect', '--leader-election-lease-duration', '3s', '--leader-election-renew-deadline', '2s', ...extraArgs,
  ], { cwd: root, env: { ...process.env, POD_NAME: pod }, stdio: 'ignore' });
}

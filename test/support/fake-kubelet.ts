// Stands in for a node, a scheduler and a kubelet, which the test control plane does not have: registers a Ready
// Node, binds pending pods to it and reports them Running and Ready, so Deployments, StatefulSets and DaemonSets
// really roll out. A pod whose first container image contains "never-ready" stays Pending (for failed rollouts).

import { type KubeClient, isConflict, isNotFound } from '../../src/kube/client.js';
import { NAMESPACES, PODS, resourcePath } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';

const NODES = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false } as const;

export interface FakeKubelet { stop(): Promise<void> }

export async function startFakeKubelet(client: KubeClient, nodeName = 'fake-node'): Promise<FakeKubelet> {
  const now = () => new Date().toISOString();
  try {
    await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } } });
  } catch (e) { if (!isConflict(e)) throw e; }
  await client.patch(NODES, undefined, nodeName, 'merge', {
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake kubelet', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      capacity: { cpu: '64', memory: '256Gi', pods: '1000' }, allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
    },
  }, { subresource: 'status' });
  void NAMESPACES;
  const abort = new AbortController();
  const handled = new Set<string>();
  const handle = async (pod: KubeObject) => {
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    const spec = pod.spec as { nodeName?: string; containers: { name: string; image: string }[] };
    const status = pod.status as { phase?: string } | undefined;
    if (pod.metadata.deletionTimestamp) {
      // No kubelet will confirm the deletion: finish it as a kubelet would after the containers stopped.
      await client.request('DELETE', resourcePath(PODS, ns, name), { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 } }).catch(() => {});
      return;
    }
    const key = `${ns}/${name}/${pod.metadata.uid}`;
    if (status?.phase === 'Running' || handled.has(key)) return;
    if (spec.containers[0]?.image.includes('never-ready')) return;
    handled.add(key);
    try {
      if (!spec.nodeName) {
        await client.request('POST', resourcePath(PODS, ns, name, 'binding'), {
          body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
        }).catch((e) => { if (!isConflict(e)) throw e; });
      }
      const t = now();
      await client.patch(PODS, ns, name, 'merge', {
        status: {
          phase: 'Running', podIP: '10.1.0.1', hostIP: '10.0.0.1', startTime: t,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t })),
          containerStatuses: spec.containers.map((c) => ({ name: c.name, image: c.image, imageID: `fake://${c.image}`, ready: true, started: true, restartCount: 0, state: { running: { startedAt: t } } })),
        },
      }, { subresource: 'status' });
    } catch (e) {
      handled.delete(key);
      if (!isNotFound(e)) throw e;
    }
  };
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        const list = await client.list(PODS);
        for (const p of list.items) await handle(p).catch(() => {});
        await client.watch(PODS, { resourceVersion: list.metadata.resourceVersion, signal: abort.signal, timeoutSeconds: 60 }, (ev) => {
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') void handle(ev.object as KubeObject).catch(() => {});
        });
      } catch {
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return { stop: async () => { abort.abort(); await loop; } };
}

// Declares the reload controller on the builder: every workload store is a primary (queue keys `Kind:ns/name`),
// config stores map to the workloads they concern after each one's debounce, the Namespace store (with
// --namespace-selector) to its workloads; the digest key gates readiness. One call from src/cli/controller.ts.
//
// A ConfigMap update's path to the PATCH, in order (five files):
//   1. src/kube/store.ts              Store.run → upsert → put → emit: the watch event becomes a StoreEvent<ConfigRecord>
//   2. src/kube/controller-builder.ts watches(): its handler asks the mapping, then WorkQueue.addAfter (debounce)
//   3. src/reload/event-mapping.ts    ReloadEventMapping.configEvent: which workloads it concerns, each one's debounce
//   4. src/kube/workqueue.ts          WorkQueue.add → pump → process: the key reaches the reconciler
//   5. src/reload/reloader.ts         Reloader.reconcile → converge (decide()) → roll → rollTemplate → write, whose
//                                     KubeClient.apply sends the server-side-apply PATCH (field manager keelson-reload)
// The one-line lambdas below connect 2→3 and 4→5; the reconciler consults pure helpers (policy.ts, decide.ts,
// apply-body.ts) and returns from each.

import { controller } from '../kube/controller-builder.js';
import type { FeatureContext } from '../kube/feature.js';
import { DIGEST_KEY_SECRET, DigestKeyring } from './digest-key.js';
import { ReloadEventMapping } from './event-mapping.js';
import { ReloadMemory } from './memory.js';
import type { WorkloadRecord } from './records.js';
import { Reloader } from './reloader.js';
import { servedWorkloadTypes } from './served-kinds.js';
import { ReloadStores } from './stores.js';
import type { WorkloadKind } from './workload-kinds.js';

export async function registerReload(ctx: FeatureContext): Promise<Reloader> {
  const { manager, options, logger } = ctx;
  const opts = options.reload;
  const stores = new ReloadStores(manager, opts, await servedWorkloadTypes(manager.client, opts, logger));
  const memory = new ReloadMemory();
  // The key of the published digests; a key change re-queues every workload so its baseline moves to the new key.
  const digestKeys = new DigestKeyring(manager.client, options.controllerNamespace, logger, () => { for (const k of mapping.allWorkloads()) queue.add(k); });
  const reloader = new Reloader({ client: manager.client, events: manager.events, metrics: manager.metrics, logger, options: opts, stores, digestKeys, memory, leading: () => manager.isLeader });
  const mapping = new ReloadEventMapping({ stores, memory, debounceMs: opts.debounceMs, tracking: (key) => reloader.tracker.has(key) });

  const b = controller<WorkloadRecord>(manager, 'reload', logger, options.workers);
  const register = { gatesStart: stores.gatesStart };
  for (const g of stores.groupsList()) {
    for (const [kind, store] of Object.entries(g.workloads) as [WorkloadKind, (typeof g.workloads)[WorkloadKind] & {}][]) {
      b.forStore(store, { key: (e) => mapping.workloadEvent(kind, e), register });
    }
    for (const store of Object.values(g.configs)) b.watches(store, (e) => mapping.configEvent(g, e), { register });
  }
  if (stores.namespaces) b.watches(stores.namespaces, (e) => mapping.namespaceEvent(e), { register: {} });
  const { queue } = b
    .readyWhen(() => (digestKeys.keys() ? undefined : `reload digest key ${options.controllerNamespace}/${DIGEST_KEY_SECRET} not loaded yet`))
    .runs(digestKeys.runnable())
    .complete((key) => reloader.reconcile(key));
  logger.info({ strategy: opts.strategy, namespaces: opts.namespaces, ignoreNamespaces: opts.ignoreNamespaces,
    namespaceSelector: opts.namespaceSelector, resourceLabelSelector: opts.resourceLabelSelector }, 'reload controller registered');
  return reloader;
}

// Wires the reload feature into the controller: its stores, its work queue and reconciler. One call from
// src/cli/controller.ts.

import type { FeatureContext } from '../kube/feature.js';
import { DIGEST_KEY_SECRET, DigestKeyring } from './digest-key.js';
import { Reloader } from './reloader.js';
import { servedWorkloadTypes } from './served-kinds.js';
import { ReloadStores } from './stores.js';

export async function registerReload(ctx: FeatureContext): Promise<Reloader> {
  const { manager, options, logger } = ctx;
  const stores = new ReloadStores(manager, options.reload, await servedWorkloadTypes(manager.client, options.reload, logger));
  stores.register();
  // The key of the published digests; a key change re-queues every workload so its baseline moves to the new key.
  let onKeyChange = () => {};
  const digestKeys = new DigestKeyring(manager.client, options.controllerNamespace, logger, () => onKeyChange());
  manager.addRunnable(digestKeys.runnable());
  manager.addReadyCheck(() => (digestKeys.keys() ? undefined : `reload digest key ${options.controllerNamespace}/${DIGEST_KEY_SECRET} not loaded yet`));
  const reloader = new Reloader({ client: manager.client, events: manager.events, metrics: manager.metrics, logger, options: options.reload, stores, digestKeys, leading: () => manager.isLeader });
  onKeyChange = () => reloader.enqueueAll();
  const queue = manager.addController({ name: 'reload', concurrency: options.workers, logger, metrics: manager.metrics }, (key) => reloader.reconcile(key));
  reloader.attach(queue);
  logger.info({ strategy: options.reload.strategy, namespaces: options.reload.namespaces, ignoreNamespaces: options.reload.ignoreNamespaces,
    namespaceSelector: options.reload.namespaceSelector, resourceLabelSelector: options.reload.resourceLabelSelector }, 'reload controller registered');
  return reloader;
}

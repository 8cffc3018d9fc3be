// Wires Git sync into the controller: a GitSync store (started once the CRD exists, so a missing CRD is a clear,
// retried error rather than a crash or a stalled manager), a work queue running the syncer, and the webhook route.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeatureContext } from '../cli/controller.js';
import { sleep, backoffDelay } from '../kube/backoff.js';
import { isNotFound } from '../kube/client.js';
import { CRDS, GITSYNCS, keyOf } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import { removeStaleEntries } from './cache.js';
import { type OrderRecord, orderRecord } from './depends.js';
import { Discovery } from './discovery.js';
import { KeyedMutex } from './git.js';
import { HookRateLimiter, WebhookSecretCache } from './hook-guard.js';
import { HOOK_PREFIX, hookHandler, tokenLoader } from './hooks.js';
import { REQUESTED_AT } from './spec.js';
import { GitSyncer } from './syncer.js';

export const GITSYNC_CRD = 'gitsyncs.keelson.dev';
const CACHE_SWEEP_MS = 10 * 60_000;

/** What triggers a sync: a new generation, deletion or a new requested-at; status writes do not. */
interface GitSyncRecord { readonly generation: number; readonly deleting: boolean; readonly requestedAt: string | undefined; readonly webhookSecret: string | undefined; readonly order: OrderRecord }

/** Index of GitSyncs by the keys of the GitSyncs they depend on: who to requeue when one becomes (not) Ready. */
const DEPENDS_ON_INDEX = 'dependsOn';

export function gitSyncRecord(obj: KubeObject): GitSyncRecord {
  const spec = (obj.spec ?? {}) as { webhookSecretRef?: { name?: unknown } };
  const ws = spec.webhookSecretRef?.name;
  return { generation: obj.metadata.generation ?? 0, deleting: !!obj.metadata.deletionTimestamp, requestedAt: obj.metadata.annotations?.[REQUESTED_AT], webhookSecret: typeof ws === 'string' ? ws : undefined, order: orderRecord(obj) };
}

export function registerGitSync(ctx: FeatureContext): void {
  const { manager, options, logger } = ctx;
  const log = logger.child({ feature: 'gitsync' });
  const cacheDir = options.gitsync.cacheDir ?? join(tmpdir(), 'keelson-git');
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const syncer = new GitSyncer({
    client: manager.client, discovery: new Discovery(manager.client), logger: log, events: manager.events,
    metrics: manager.metrics, cacheDir, mutex: new KeyedMutex(),
    identityPolicy: { controllerNamespace: options.controllerNamespace, defaultServiceAccount: options.gitsync.defaultServiceAccount },
    allowInsecureGit: options.gitsync.allowInsecureGit, proxyEnv: options.gitsync.proxyEnv,
    limits: { maxBytes: options.gitsync.maxRevisionBytes, maxObjects: options.gitsync.maxRevisionObjects },
    order: (key) => store.get(key)?.order,
    kustomizePath: options.gitsync.kustomizePath,
  });
  const queue = manager.addController({ name: 'gitsync', concurrency: options.gitsync.maxConcurrentSyncs, logger: log, metrics: manager.metrics }, async (key, signal) => {
    await store.waitForSync(signal);
    return syncer.reconcile(key, signal);
  });
  const store = new Store<GitSyncRecord>({ client: manager.client, resource: GITSYNCS, transform: gitSyncRecord, logger: log, metrics: manager.metrics });
  store.onChange((e) => {
    if (e.type === 'update' && e.old.generation === e.record.generation && e.old.deleting === e.record.deleting && e.old.requestedAt === e.record.requestedAt) return;
    queue.add(e.key);
  });
  // dependsOn: when a GitSync appears, goes, or its Ready-at-latest changes, requeue the GitSyncs that depend on it.
  store.addIndex(DEPENDS_ON_INDEX, (r) => r.order.dependsOn);
  store.onChange((e) => {
    if (e.type === 'update' && e.old.order.ready === e.record.order.ready && e.old.order.state === e.record.order.state) return;
    for (const dependent of store.byIndex(DEPENDS_ON_INDEX, e.key)) queue.add(dependent);
  });
  manager.addRunnable({
    name: 'gitsync-store', needsLeader: false,
    run: async (signal) => {
      // Wait for the CRD with a clear message instead of letting the store log 404s forever.
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          await manager.client.get(CRDS, undefined, GITSYNC_CRD);
          break;
        } catch (err) {
          const delay = backoffDelay({ baseMs: 1000, maxMs: 60_000 }, attempt);
          if (isNotFound(err)) log.error({ retryInMs: delay }, `the GitSync CRD ${GITSYNC_CRD} is not installed: apply manifests/crd-gitsyncs.yaml; Git sync waits for it`);
          else log.warn({ retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, `could not check for the GitSync CRD ${GITSYNC_CRD}; retrying`);
          await sleep(delay, signal);
        }
      }
      if (signal.aborted) return;
      store.start();
      // Cache folders of GitSyncs deleted while no controller ran (or whose delete was missed) go once the store
      // has synced, and every 10 minutes after that.
      await store.waitForSync(signal);
      while (!signal.aborted) {
        try {
          const removed = await removeStaleEntries(cacheDir, (ns, name) => store.get(keyOf(ns, name)) !== undefined);
          if (removed.length > 0) log.info({ removed: removed.length }, 'removed Git cache folders of GitSyncs that no longer exist');
        } catch (err) {
          log.warn({ err: err instanceof Error ? err.message : String(err) }, `could not clean the Git cache ${cacheDir}; retrying later`);
        }
        await sleep(CACHE_SWEEP_MS, signal);
      }
      await store.stop();
    },
  });
  manager.http.route('POST', HOOK_PREFIX, hookHandler({
    logger: log, secrets: new WebhookSecretCache(tokenLoader(manager.client)), limiter: new HookRateLimiter(),
    webhookSecretOf: (ns, name) => store.get(keyOf(ns, name))?.webhookSecret,
    trigger: (ns, name) => queue.add(keyOf(ns, name)),
  }));
}

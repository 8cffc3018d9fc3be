// Wires Git sync into the controller: a GitSync store (the manager starts it once the CRD exists, so a missing CRD
// is a clear, retried error and /readyz says so), a work queue running the syncer, and the webhook route.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controller } from '../kube/controller-builder.js';
import type { FeatureContext } from '../kube/feature.js';
import { sleep } from '../kube/backoff.js';
import { errorText } from '../kube/errors.js';
import { GITSYNCS, keyOf } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { removeStaleEntries } from './cache.js';
import { type OrderRecord, orderRecord } from './depends.js';
import { Discovery } from './discovery.js';
import { KeyedMutex } from './git.js';
import { HookRateLimiter, WebhookSecretCache } from './hook-guard.js';
import { HOOK_PREFIX, hookHandler, tokenLoader } from './hooks.js';
import { REQUESTED_AT } from './spec.js';
import { type GitSyncSnapshot, snapshotOf } from './snapshot.js';
import { GitSyncer } from './syncer.js';

export const GITSYNC_CRD = 'gitsyncs.keelson.dev';
const CACHE_SWEEP_MS = 10 * 60_000;

/** What triggers a sync: a new generation, deletion or a new requested-at; status writes do not. */
interface GitSyncRecord { readonly generation: number; readonly deleting: boolean; readonly requestedAt: string | undefined; readonly webhookSecret: string | undefined; readonly order: OrderRecord; readonly latest: GitSyncSnapshot }

/** Index of GitSyncs by the keys of the GitSyncs they depend on: who to requeue when one becomes (not) Ready. */
const DEPENDS_ON_INDEX = 'dependsOn';

export function gitSyncRecord(obj: KubeObject): GitSyncRecord {
  const spec = (obj.spec ?? {}) as { webhookSecretRef?: { name?: unknown } };
  const ws = spec.webhookSecretRef?.name;
  return { generation: obj.metadata.generation ?? 0, deleting: !!obj.metadata.deletionTimestamp, requestedAt: obj.metadata.annotations?.[REQUESTED_AT], webhookSecret: typeof ws === 'string' ? ws : undefined, order: orderRecord(obj), latest: snapshotOf(obj) };
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
    latest: (key) => store.get(key)?.latest,
    kustomizePath: options.gitsync.kustomizePath,
  });
  const { store, queue } = controller<GitSyncRecord>(manager, 'gitsync', log, options.gitsync.maxConcurrentSyncs)
    .for(GITSYNCS, gitSyncRecord, { crd: { name: GITSYNC_CRD, kind: 'GitSync', missing: 'apply manifests/crd-gitsyncs.yaml; Git sync waits for it' } })
    // A new generation, deletion or requested-at syncs; status writes do not.
    .withPredicate((e) => !(e.type === 'update' && e.old.generation === e.record.generation && e.old.deleting === e.record.deleting && e.old.requestedAt === e.record.requestedAt))
    // dependsOn: when a GitSync appears, goes, or its Ready-at-latest changes, requeue the GitSyncs that depend on it.
    .withIndex(DEPENDS_ON_INDEX, (r) => r.order.dependsOn)
    .enqueuesRelated((e, s) => (e.type === 'update' && e.old.order.ready === e.record.order.ready && e.old.order.state === e.record.order.state ? [] : s.byIndex(DEPENDS_ON_INDEX, e.key)))
    .complete((key, signal) => syncer.reconcile(key, signal));
  manager.addRunnable({
    name: 'gitsync-cache-sweeper', needsLeader: false,
    run: async (signal) => {
      // Cache folders of GitSyncs deleted while no controller ran (or whose delete was missed) go once the store
      // has synced, and every 10 minutes after that.
      await store.waitForSync(signal);
      while (!signal.aborted) {
        try {
          const removed = await removeStaleEntries(cacheDir, (ns, name) => store.get(keyOf(ns, name)) !== undefined);
          if (removed.length > 0) log.info({ removed: removed.length }, 'removed Git cache folders of GitSyncs that no longer exist');
        } catch (err) {
          log.warn({ err: errorText(err) }, `could not clean the Git cache ${cacheDir}; retrying later`);
        }
        await sleep(CACHE_SWEEP_MS, signal);
      }
    },
  });
  manager.http.route('POST', HOOK_PREFIX, hookHandler({
    logger: log, secrets: new WebhookSecretCache(tokenLoader(manager.client)), limiter: new HookRateLimiter(),
    webhookSecretOf: (ns, name) => store.get(keyOf(ns, name))?.webhookSecret,
    trigger: (ns, name) => queue.add(keyOf(ns, name)),
  }));
}

// Wires image policies into the controller: an ImagePolicy store (started once the CRD exists; a missing CRD is a
// clear, retried error, not a crash) and a work queue running the scanner; scans repeat through requeues at each
// policy's interval, a new generation scans at once. With Git sync on, a second queue keyed by GitSync writes new
// latest refs into Git (spec.imageUpdate) when a policy's latestRef changes or a GitSync's spec does.

import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { FeatureContext } from '../cli/controller.js';
import { waitForCrd } from '../kube/crd-wait.js';
import { GITSYNCS, IMAGEPOLICIES, splitKey } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import type { Manager } from '../kube/manager.js';
import { ImagePolicyScanner } from './scanner.js';
import { ImageUpdater } from './update-reconciler.js';

export const IMAGEPOLICY_CRD = 'imagepolicies.keelson.dev';
const GITSYNC_CRD = 'gitsyncs.keelson.dev';

/** A new generation (spec change) scans; latestRef feeds image updates; other status writes do nothing. */
interface ImagePolicyRecord { readonly generation: number; readonly latestRef: string | undefined }
/** GitSyncs with spec.imageUpdate, by generation. */
interface GitSyncRecord { readonly generation: number }

export function registerImages(ctx: FeatureContext): void {
  const { manager, options, logger } = ctx;
  const log = logger.child({ feature: 'images' });
  const scanner = new ImagePolicyScanner({
    client: manager.client, events: manager.events, logger: log, metrics: manager.metrics,
    allowInsecureRegistries: options.images.allowInsecureRegistries,
  });
  const policies = new Store<ImagePolicyRecord>({
    client: manager.client, resource: IMAGEPOLICIES, logger: log, metrics: manager.metrics,
    transform: (obj: KubeObject) => {
      const latestRef = (obj.status as { latestRef?: unknown } | undefined)?.latestRef;
      return { generation: obj.metadata.generation ?? 0, latestRef: typeof latestRef === 'string' ? latestRef : undefined };
    },
  });
  const queue = manager.addController({ name: 'imagepolicy', concurrency: options.images.maxConcurrentScans, logger: log, metrics: manager.metrics }, async (key, signal) => {
    await policies.waitForSync(signal);
    return scanner.reconcile(key, signal);
  });

  // Image updates need Git sync (its transports, credentials and the sync that applies the commit).
  let gitsyncs: Store<GitSyncRecord> | undefined;
  let updates: ReturnType<Manager['addController']> | undefined;
  if (options.gitsync.enabled) {
    const gs = new Store<GitSyncRecord>({
      client: manager.client, resource: GITSYNCS, logger: log, metrics: manager.metrics, name: 'gitsyncs-image-update',
      transform: (obj: KubeObject) => ((obj.spec as { imageUpdate?: unknown } | undefined)?.imageUpdate ? { generation: obj.metadata.generation ?? 0 } : undefined),
    });
    gitsyncs = gs;
    const updater = new ImageUpdater({
      client: manager.client, events: manager.events, logger: log, metrics: manager.metrics,
      allowInsecureGit: options.gitsync.allowInsecureGit, cacheDir: options.gitsync.cacheDir ?? join(tmpdir(), 'keelson-git'),
      latestRefs: (ns) => {
        const out = new Map<string, string>();
        for (const key of policies.keys()) {
          const { namespace, name } = splitKey(key);
          const latest = namespace === ns ? policies.get(key)?.latestRef : undefined;
          if (latest) out.set(name, latest);
        }
        return out;
      },
    });
    const uq = manager.addController({ name: 'imageupdate', concurrency: options.gitsync.maxConcurrentSyncs, logger: log, metrics: manager.metrics }, async (key, signal) => {
      await Promise.all([policies.waitForSync(signal), gs.waitForSync(signal)]);
      return updater.reconcile(key, signal);
    });
    updates = uq;
    gs.onChange((e) => {
      if (e.type === 'delete' || (e.type === 'update' && e.old.generation === e.record.generation)) return;
      uq.add(e.key);
    });
  }

  policies.onChange((e) => {
    if (e.type !== 'delete' && !(e.type === 'update' && e.old.generation === e.record.generation)) queue.add(e.key);
    // A new latest ref: every GitSync with image updates in that namespace rewrites its markers.
    const moved = e.type === 'update' ? e.old.latestRef !== e.record.latestRef : e.record.latestRef !== undefined;
    if (moved && gitsyncs && updates) {
      const ns = splitKey(e.key).namespace;
      for (const key of gitsyncs.keys()) if (splitKey(key).namespace === ns) updates.add(key);
    }
  });

  manager.addRunnable({
    name: 'imagepolicy-store', needsLeader: false,
    run: async (signal) => {
      await waitForCrd(manager.client, log, IMAGEPOLICY_CRD, 'apply manifests/crd-imagepolicies.yaml, or start Keelson with --disable-images; image policies wait for it', signal);
      if (signal.aborted) return;
      policies.start();
      if (gitsyncs) {
        await waitForCrd(manager.client, log, GITSYNC_CRD, 'apply manifests/crd-gitsyncs.yaml; image updates wait for it', signal);
        if (!signal.aborted) gitsyncs.start();
      }
      await new Promise<void>((resolve) => { if (signal.aborted) resolve(); else signal.addEventListener('abort', () => resolve(), { once: true }); });
      await Promise.all([policies.stop(), gitsyncs?.stop()]);
    },
  });
}

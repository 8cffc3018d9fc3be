// Wires image policies into the controller, declared with the controller builder: an ImagePolicy store (started
// once the CRD exists; a missing CRD is a clear, retried error and /readyz says so) and a work queue running the
// scanner; scans repeat through requeues at each policy's interval, a new generation scans at once. With Git sync on, a second queue keyed by GitSync writes new
// latest refs into Git (spec.imageUpdate) when a policy's latestRef changes or a GitSync's spec does.

import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { controller, generationChanged } from '../kube/controller-builder.js';
import type { FeatureContext } from '../kube/feature.js';
import type { Store } from '../kube/store.js';
import { GITSYNCS, IMAGEPOLICIES, splitKey } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
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
    identityPolicy: { controllerNamespace: options.controllerNamespace, defaultServiceAccount: options.gitsync.defaultServiceAccount },
  });
  const { store: policies } = controller<ImagePolicyRecord>(manager, 'imagepolicy', log, options.images.maxConcurrentScans)
    .for(IMAGEPOLICIES, imagePolicyRecord, { crd: { name: IMAGEPOLICY_CRD, kind: 'ImagePolicy', missing: 'apply manifests/crd-imagepolicies.yaml, or start Keelson with --disable-images; image policies wait for it' } })
    // Scans repeat through requeues at each policy's interval; a new generation scans at once, status writes do not.
    .withPredicate((e) => e.type !== 'delete' && generationChanged(e))
    .complete((key, signal) => scanner.reconcile(key, signal));

  // Image updates need Git sync (its transports, credentials and the sync that applies the commit).
  if (!options.gitsync.enabled) return;
  const updater = new ImageUpdater({
    client: manager.client, events: manager.events, logger: log, metrics: manager.metrics,
    allowInsecureGit: options.gitsync.allowInsecureGit, cacheDir: options.gitsync.cacheDir ?? join(tmpdir(), 'keelson-git'),
    identityPolicy: { controllerNamespace: options.controllerNamespace, defaultServiceAccount: options.gitsync.defaultServiceAccount },
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
  const { store: gitsyncs }: { store: Store<GitSyncRecord> } = controller<GitSyncRecord>(manager, 'imageupdate', log, options.gitsync.maxConcurrentSyncs)
    .for(GITSYNCS, (obj: KubeObject) => ((obj.spec as { imageUpdate?: unknown } | undefined)?.imageUpdate ? { generation: obj.metadata.generation ?? 0 } : undefined),
      { name: 'gitsyncs-image-update', crd: { name: GITSYNC_CRD, kind: 'GitSync', missing: 'apply manifests/crd-gitsyncs.yaml; image updates wait for it' } })
    .withPredicate((e) => e.type !== 'delete' && generationChanged(e))
    // A new latest ref: every GitSync with image updates in that namespace rewrites its markers.
    .watches(policies, (e): string[] => {
      const moved = e.type === 'update' ? e.old.latestRef !== e.record.latestRef : e.record.latestRef !== undefined;
      if (!moved) return [];
      const ns = splitKey(e.key).namespace;
      return [...gitsyncs.keys()].filter((key) => splitKey(key).namespace === ns);
    })
    .complete(async (key, signal) => {
      await policies.waitForSync(signal);
      return updater.reconcile(key, signal);
    });
}

/** A new generation (spec change) scans; latestRef feeds image updates. */
export function imagePolicyRecord(obj: KubeObject): ImagePolicyRecord {
  const latestRef = (obj.status as { latestRef?: unknown } | undefined)?.latestRef;
  return { generation: obj.metadata.generation ?? 0, latestRef: typeof latestRef === 'string' ? latestRef : undefined };
}

// Wires image policies into the controller: an ImagePolicy store (started once the CRD exists; a missing CRD is a
// clear, retried error, not a crash) and a work queue running the scanner. Scans repeat through requeues at each
// policy's interval; a new generation scans at once.

import type { FeatureContext } from '../cli/controller.js';
import { backoffDelay, sleep } from '../kube/backoff.js';
import { isNotFound } from '../kube/client.js';
import { CRDS, IMAGEPOLICIES } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import { ImagePolicyScanner } from './scanner.js';

export const IMAGEPOLICY_CRD = 'imagepolicies.keelson.dev';

/** Only a new generation (spec change) or deletion triggers a scan; status writes do not. */
interface ImagePolicyRecord { readonly generation: number }

export function registerImages(ctx: FeatureContext): void {
  const { manager, options, logger } = ctx;
  const log = logger.child({ feature: 'images' });
  const scanner = new ImagePolicyScanner({
    client: manager.client, events: manager.events, logger: log, metrics: manager.metrics,
    allowInsecureRegistries: options.images.allowInsecureRegistries,
  });
  const store = new Store<ImagePolicyRecord>({
    client: manager.client, resource: IMAGEPOLICIES, logger: log, metrics: manager.metrics,
    transform: (obj: KubeObject) => ({ generation: obj.metadata.generation ?? 0 }),
  });
  const queue = manager.addController({ name: 'imagepolicy', concurrency: options.images.maxConcurrentScans, logger: log, metrics: manager.metrics }, async (key, signal) => {
    await store.waitForSync(signal);
    return scanner.reconcile(key, signal);
  });
  store.onChange((e) => {
    if (e.type === 'update' && e.old.generation === e.record.generation) return;
    if (e.type !== 'delete') queue.add(e.key);
  });
  manager.addRunnable({
    name: 'imagepolicy-store', needsLeader: false,
    run: async (signal) => {
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          await manager.client.get(CRDS, undefined, IMAGEPOLICY_CRD);
          break;
        } catch (err) {
          const delay = backoffDelay({ baseMs: 1000, maxMs: 60_000 }, attempt);
          if (isNotFound(err)) log.error({ retryInMs: delay }, `the ImagePolicy CRD ${IMAGEPOLICY_CRD} is not installed: apply manifests/crd-imagepolicies.yaml, or start Keelson with --disable-images; image policies wait for it`);
          else log.warn({ retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, `could not check for the ImagePolicy CRD ${IMAGEPOLICY_CRD}; retrying`);
          await sleep(delay, signal);
        }
      }
      if (signal.aborted) return;
      store.start();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await store.stop();
    },
  });
}

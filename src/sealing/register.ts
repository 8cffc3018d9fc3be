// Wires the sealing feature into the Manager: the key Store and Keyring, the SealedSecret and Secret Stores that
// enqueue work, the unsealer's work queue, the key generator, and the HTTP endpoints. A missing SealedSecret CRD
// does not hold up the rest of the controller: its Store starts once the API serves the resource, and until then an
// error says how to install it. Every RSA operation runs in the UnsealPool's worker threads.

import type { FeatureContext } from '../kube/feature.js';
import { untilAborted } from '../kube/backoff.js';
import { SEALEDSECRETS, SECRETS, keyOf } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import { createKeyStore, keyGenerator } from './key-store.js';
import { Keyring } from './keyring.js';
import { registerSealingEndpoints } from './endpoints.js';
import { trustedProxies } from './rate-limit.js';
import { UnsealPool, defaultPoolSize } from './unseal-pool.js';
import { SEALEDSECRET_KIND, type SealedSecret } from './sealed-secret.js';
import { SealedSecretUnsealer } from './unsealer.js';

interface SealedSecretRecord {
  readonly uid: string;
  /** Changes when anything but status changes (generation, annotations, labels): status-only updates are ignored. */
  readonly specKey: string;
  readonly synced: boolean;
}

interface SecretRecord {
  /** The SealedSecret that controls this Secret, if any. */
  readonly owner: string | undefined;
}

/** Shared by every Secret no SealedSecret controls: the cache costs a key per Secret, nothing more. */
const NOT_OWNED: SecretRecord = Object.freeze({ owner: undefined });

export function sealedSecretRecord(obj: KubeObject): SealedSecretRecord {
  const ss = obj as SealedSecret;
  const synced = ss.status?.observedGeneration === ss.metadata.generation && !!ss.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True');
  return { uid: ss.metadata.uid ?? '', specKey: JSON.stringify([ss.metadata.generation, ss.metadata.annotations ?? {}, ss.metadata.labels ?? {}]), synced };
}

export function registerSealing(ctx: FeatureContext): void {
  const { manager, options } = ctx;
  const logger = ctx.logger.child({ feature: 'sealing' });
  const keyring = new Keyring();
  const keyStore = manager.addStore(createKeyStore(manager, logger, keyring, options.sealing.keyNamespace));

  const sealedSecrets = new Store<SealedSecretRecord>({
    client: manager.client, resource: SEALEDSECRETS, logger, metrics: manager.metrics, transform: sealedSecretRecord,
  });
  const secrets = manager.addStore(new Store<SecretRecord>({
    client: manager.client, resource: SECRETS, logger, metrics: manager.metrics, name: 'secrets@sealing',
    // Only the owner reference matters here: the data of every Secret is neither listed nor watched for it.
    metadataOnly: true,
    transform: (obj) => {
      const owner = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === SEALEDSECRET_KIND)?.name;
      return owner === undefined ? NOT_OWNED : { owner };
    },
  }));

  const pool = new UnsealPool(keyring, logger, options.sealing.unsealWorkers || defaultPoolSize());
  const unsealer = new SealedSecretUnsealer(manager, logger, keyring, pool);
  const queue = manager.addController({ name: 'sealedsecrets', concurrency: options.workers, logger, metrics: manager.metrics }, (key) => unsealer.reconcile(key));

  sealedSecrets.onChange((e) => {
    if (e.type === 'delete') { keyring.forget(e.record.uid); return; }
    if (e.type === 'update' && e.old.specKey === e.record.specKey && e.old.uid === e.record.uid) return; // our own status write
    queue.add(e.key);
  });
  secrets.onChange((e) => {
    const ns = e.key.slice(0, e.key.indexOf('/'));
    const name = e.key.slice(e.key.indexOf('/') + 1);
    if (sealedSecrets.get(e.key)) queue.add(e.key);
    if (e.record.owner && e.record.owner !== name && sealedSecrets.get(keyOf(ns, e.record.owner))) queue.add(keyOf(ns, e.record.owner));
  });
  keyStore.onChange((e) => {
    if (e.type !== 'add') return;
    // A new key may open what could not be opened before.
    for (const [key, r] of sealedSecrets.records()) if (!r.synced) queue.add(key);
  });

  manager.addStore(sealedSecrets, { crd: { name: 'sealedsecrets.bitnami.com', kind: 'SealedSecret', missing: 'apply manifests/crd-sealedsecrets.yaml; retrying' } });
  // /v1/cert.pem answers the moment the pod is Ready: no key loaded (a fresh install, before the leader made one) is not ready.
  manager.addReadyCheck(() => (keyring.size > 0 ? undefined : `no sealing key loaded yet from namespace ${options.sealing.keyNamespace}`));
  manager.addRunnable(keyGenerator(manager, logger, keyring, {
    namespace: options.sealing.keyNamespace, prefix: options.sealing.keyPrefix, keySize: options.sealing.keySize, renewPeriodMs: options.sealing.keyRenewPeriodMs,
    cutoff: options.sealing.keyCutoffTime,
  }));
  // The pool serves the endpoints on every replica, leader or not; it stops with the manager.
  manager.addRunnable({
    name: 'unseal-pool',
    needsLeader: false,
    async run(signal) {
      logger.info({ workers: pool.size }, 'unseal worker pool ready (workers start on first use)');
      await untilAborted(signal);
      await pool.close();
    },
  });
  registerSealingEndpoints(manager.http, keyring, pool, logger, { trustedProxies: trustedProxies(options.sealing.trustedProxyCidrs) });
}

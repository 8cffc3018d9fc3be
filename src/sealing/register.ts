// Declares the sealing controller on the builder: SealedSecrets as primary, the metadata-only Secret store (a Secret
// enqueues the SealedSecret of its name or its controlling owner), the key store (a new key enqueues the SealedSecrets
// not yet synced), the key generator, the unseal pool, the cert readiness check, and the HTTP endpoints. A missing
// SealedSecret CRD does not hold up the rest of the controller: its Store starts once the API serves the resource,
// and until then an error says how to install it. Every RSA operation runs in the UnsealPool's worker threads.

import { controller } from '../kube/controller-builder.js';
import type { FeatureContext } from '../kube/feature.js';
import { untilAborted } from '../kube/backoff.js';
import { SEALEDSECRETS, SECRETS, keyOf, splitKey } from '../kube/resources.js';
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
  const keyStore = createKeyStore(manager, logger, keyring, options.sealing.keyNamespace);
  const secrets = new Store<SecretRecord>({
    client: manager.client, resource: SECRETS, logger, metrics: manager.metrics, name: 'secrets@sealing',
    // Only the owner reference matters here: the data of every Secret is neither listed nor watched for it.
    metadataOnly: true,
    transform: (obj) => {
      const owner = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === SEALEDSECRET_KIND)?.name;
      return owner === undefined ? NOT_OWNED : { owner };
    },
  });
  const pool = new UnsealPool(keyring, logger, options.sealing.unsealWorkers || defaultPoolSize());
  const unsealer = new SealedSecretUnsealer({ client: manager.client, events: manager.events, metrics: manager.metrics, keyring, pool, logger });

  const { store: sealedSecrets } = controller<SealedSecretRecord>(manager, 'sealedsecrets', logger, options.workers)
    .for(SEALEDSECRETS, sealedSecretRecord, { crd: { name: 'sealedsecrets.bitnami.com', kind: 'SealedSecret', missing: 'apply manifests/crd-sealedsecrets.yaml; retrying' } })
    // A deletion leaves nothing to do (the garbage collector removes the Secret); our own status write changes no specKey.
    .withPredicate((e) => e.type !== 'delete' && !(e.type === 'update' && e.old.specKey === e.record.specKey && e.old.uid === e.record.uid))
    // The key store first: its sync gates the start like the Secret store's.
    .watches(keyStore, (e) => (e.type === 'add' ? unsynced() : []), { register: {} })
    // A Secret named like a SealedSecret (owned or not: plan.ts decides), or controlled by one, enqueues it.
    .watches(secrets, (e) => {
      const { namespace, name } = splitKey(e.key);
      const out: string[] = [];
      if (sealedSecrets.get(e.key)) out.push(e.key);
      if (e.record.owner && e.record.owner !== name && sealedSecrets.get(keyOf(namespace, e.record.owner))) out.push(keyOf(namespace, e.record.owner));
      return out;
    }, { register: {} })
    // /v1/cert.pem answers the moment the pod is Ready: no key loaded (a fresh install, before the leader made one) is not ready.
    .readyWhen(() => (keyring.size > 0 ? undefined : `no sealing key loaded yet from namespace ${options.sealing.keyNamespace}`))
    .runs(keyGenerator(manager, logger, keyring, {
      namespace: options.sealing.keyNamespace, prefix: options.sealing.keyPrefix, keySize: options.sealing.keySize, renewPeriodMs: options.sealing.keyRenewPeriodMs,
      cutoff: options.sealing.keyCutoffTime,
    }))
    // The pool serves the endpoints on every replica, leader or not; it stops with the manager.
    .runs({
      name: 'unseal-pool',
      needsLeader: false,
      async run(signal) {
        logger.info({ workers: pool.size }, 'unseal worker pool ready (workers start on first use)');
        await untilAborted(signal);
        await pool.close();
      },
    })
    .complete((key) => unsealer.reconcile(key));
  sealedSecrets.onChange((e) => { if (e.type === 'delete') keyring.forget(e.record.uid); });
  /** A new key may open what could not be opened before. */
  function unsynced(): string[] {
    return [...sealedSecrets.records()].filter(([, r]) => !r.synced).map(([key]) => key);
  }
  registerSealingEndpoints(manager.http, keyring, pool, logger, { trustedProxies: trustedProxies(options.sealing.trustedProxyCidrs) });
}

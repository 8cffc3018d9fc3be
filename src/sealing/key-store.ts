// The key namespace's active key Secrets as a Store whose records are parsed keys (only that namespace and label:
// no other Secret's data is ever held), feeding the Keyring; and the leader-only key generator that creates the
// first key and renews it every --key-renew-period. A key Secret that does not parse is skipped with a warning that
// names it (never its content).

import { isAlreadyExists } from '../kube/client.js';
import type { Manager, Runnable } from '../kube/manager.js';
import { SECRETS } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import { sleep } from '../kube/backoff.js';
import type { Logger } from '../observe/logger.js';
import { KEY_LABEL, KEY_LABEL_ACTIVE, KeyError, type SealingKey, generateSealingKey, keySecretOf, sealingKeyFromSecret } from './keys.js';
import type { Keyring } from './keyring.js';
import { renewalDelayMs } from './renewal.js';
import { errorText } from '../kube/errors.js';

export interface KeyStoreOptions {
  readonly namespace: string;
  readonly prefix: string;
  readonly keySize: number;
  readonly renewPeriodMs: number;
  /** --key-cutoff-time: checked once, at start, as bitnami does (a cutoff in the future must not renew in a loop). */
  readonly cutoff?: Date | undefined;
}

export function createKeyStore(manager: Manager, logger: Logger, keyring: Keyring, namespace: string): Store<SealingKey> {
  const store = new Store<SealingKey>({
    client: manager.client, resource: SECRETS, namespace, labelSelector: `${KEY_LABEL}=${KEY_LABEL_ACTIVE}`,
    logger, metrics: manager.metrics, name: `sealing-keys@${namespace}`,
    transform: (obj) => {
      try {
        return sealingKeyFromSecret(obj);
      } catch (e) {
        logger.warn({ keySecret: `${namespace}/${obj.metadata.name}`, err: e instanceof KeyError ? e.message : 'unreadable key' }, 'sealing key Secret skipped: fix or remove it');
        return undefined;
      }
    },
  });
  store.onChange((e) => {
    keyring.set(store.list());
    manager.metrics.sealingKeys.set(keyring.size);
    if (e.type !== 'update') logger.info({ keySecret: e.key, fingerprint: e.record.fingerprint.slice(0, 16), keys: keyring.size }, e.type === 'add' ? 'sealing key loaded' : 'sealing key removed');
  });
  return store;
}

/** Leader-only: generates a key when there is none, and a new one whenever the newest is older than the period. */
export function keyGenerator(manager: Manager, logger: Logger, keyring: Keyring, opts: KeyStoreOptions): Runnable {
  let floor: Date | undefined; // creation time of a key we made that the store may not show yet
  const newestCreated = (): Date | undefined => {
    const n = keyring.newest()?.createdAt;
    if (!floor) return n;
    return n && n.getTime() >= floor.getTime() ? n : floor;
  };
  return {
    name: 'sealing-key-generator',
    needsLeader: true,
    async run(signal) {
      let cutoff = opts.cutoff;
      if (cutoff && cutoff.getTime() > Date.now()) logger.warn({ cutoff: cutoff.toISOString() }, '--key-cutoff-time is in the future: every start before it generates a new key');
      while (!signal.aborted) {
        const delay = renewalDelayMs(newestCreated(), opts.renewPeriodMs, new Date(), cutoff);
        if (delay === undefined) return; // renewal disabled and a key exists
        if (delay > 0) { await sleep(Math.min(delay, 60_000), signal); continue; }
        try {
          const started = Date.now();
          const key = await generateSealingKey(opts.keySize);
          if (signal.aborted) return;
          const created = await manager.client.create(SECRETS, keySecretOf(key, opts.namespace, opts.prefix), { fieldManager: 'keelson-sealing' });
          floor = new Date(created.metadata.creationTimestamp ?? Date.now());
          const reason = keyring.size === 0 ? 'no key' : cutoff ? 'key-cutoff-time' : 'renewal';
          cutoff = undefined;
          logger.info({ keySecret: `${opts.namespace}/${created.metadata.name}`, bits: opts.keySize, ms: Date.now() - started, reason }, 'sealing key generated');
        } catch (err) {
          if (signal.aborted) return;
          logger.error({ namespace: opts.namespace, err: errorText(err) }, isAlreadyExists(err)
            ? 'sealing key Secret name collision; retrying' : `could not store a new sealing key in namespace ${opts.namespace}: check it exists and Keelson may create Secrets there`);
          await sleep(5000, signal);
        }
      }
    },
  };
}

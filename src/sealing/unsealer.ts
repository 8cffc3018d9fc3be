// SealedSecretUnsealer: the level-triggered reconciler. For a key it reads the SealedSecret and its Secret as they
// are now, opens every value with the keyring (in the unseal pool's worker threads, never on the event loop), asks
// plan.ts what to write, writes only a difference, and records status (observedGeneration, condition Synced), an
// Event and a metric. No value ever reaches a message: errors name the value's key only, and a Secret is written
// whole or not at all.

import { transitionTime } from '../kube/conditions.js';
import { type KubeClient, isAlreadyExists, isConflict, isInvalid, isNotFound } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import { involvedObjectOf } from '../kube/events.js';
import { SEALEDSECRETS, SECRETS, refOf, splitKey } from '../kube/resources.js';
import { type ReconcileResult, TerminalError } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import type { Keyring } from './keyring.js';
import { type Plan, planSecret } from './plan.js';
import { type SealedSecret, type Secret, type SyncedCondition, UnsealError, desiredSecret } from './sealed-secret.js';
import type { UnsealPool } from './unseal-pool.js';
import { errorText } from '../kube/errors.js';

export const FIELD_MANAGER = 'keelson-sealing';

/** Said (Warning event, condition) whenever a legacy spec.data object is unsealed: the format has no per-value
 * update and bitnami deprecated it. */
export const LEGACY_ADVICE = 'this SealedSecret uses the deprecated spec.data format; re-seal it (keelson seal, or keelson reencrypt, which converts it) to get spec.encryptedData';

/** The Synced condition for an outcome; lastTransitionTime is kept when the status does not change. */
export function syncedCondition(prev: SyncedCondition | undefined, ok: boolean, reason: string, message: string, now: string): SyncedCondition {
  const status = ok ? 'True' : 'False';
  return { type: 'Synced', status, reason, message, lastUpdateTime: now, lastTransitionTime: transitionTime(prev, status, now) };
}

/** What the unsealer needs, and nothing more: it reads and writes through the client, opens values in the pool. */
export interface UnsealerDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly metrics: Pick<Metrics, 'unsealTotal'>;
  readonly keyring: Keyring;
  readonly pool: Pick<UnsealPool, 'unseal'>;
  readonly logger: Logger;
}

export class SealedSecretUnsealer {
  private readonly client: KubeClient;
  private readonly events: EventRecorder;
  private readonly metrics: Pick<Metrics, 'unsealTotal'>;
  private readonly keyring: Keyring;
  private readonly pool: Pick<UnsealPool, 'unseal'>;
  private readonly logger: Logger;

  constructor(deps: UnsealerDeps) {
    ({ client: this.client, events: this.events, metrics: this.metrics, keyring: this.keyring, pool: this.pool, logger: this.logger } = deps);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const client = this.client;
    const ss = await client.tryGet<SealedSecret>(SEALEDSECRETS, namespace, name);
    if (!ss || ss.metadata.deletionTimestamp) {
      // The garbage collector removes an owned Secret; nothing of ours to undo.
      return;
    }
    const ref = refOf('SealedSecret', namespace, name);
    const uid = ss.metadata.uid ?? key;
    let unsealed;
    try {
      unsealed = await this.pool.unseal(ss, 'controller', this.keyring.hintFingerprint(uid));
    } catch (e) {
      if (!(e instanceof UnsealError)) throw e;
      this.metrics.unsealTotal.inc({ result: 'error' });
      this.logger.warn({ sealedSecret: key, reason: e.reason, err: e.message, keys: this.keyring.size }, 'cannot unseal');
      await this.events.record(involvedObjectOf(ss), 'Warning', 'ErrUnsealFailed', e.message);
      await this.writeStatus(ss, false, e.reason, e.message);
      // Retrying cannot help until the object or the keyring changes, and both enqueue it again.
      throw new TerminalError(`${ref}: ${e.message}`);
    }
    if (unsealed.fingerprint) this.keyring.rememberFingerprint(uid, unsealed.fingerprint);
    const desired = desiredSecret(ss, unsealed.data, unsealed.legacy);
    const existing = await client.tryGet<Secret>(SECRETS, namespace, name);
    const plan = planSecret(ss, desired, existing);
    if (plan.kind === 'refused') {
      this.metrics.unsealTotal.inc({ result: 'refused' });
      this.logger.warn({ sealedSecret: key, reason: 'ErrUpdateFailed' }, plan.message);
      await this.events.record(involvedObjectOf(ss), 'Warning', 'ErrUpdateFailed', plan.message);
      await this.writeStatus(ss, false, 'ErrUpdateFailed', plan.message);
      throw new TerminalError(plan.message);
    }
    if (plan.kind !== 'unchanged') {
      try {
        await this.write(plan);
      } catch (e) {
        if (isConflict(e) || isAlreadyExists(e) || isNotFound(e)) throw e; // raced with another writer: retry from fresh state
        const message = `${ref}: could not write Secret ${namespace}/${name}: ${errorText(e)}`;
        this.metrics.unsealTotal.inc({ result: 'error' });
        await this.events.record(involvedObjectOf(ss), 'Warning', 'ErrUpdateFailed', message);
        await this.writeStatus(ss, false, 'ErrUpdateFailed', message);
        if (isInvalid(e)) throw new TerminalError(message); // the API refuses this Secret (e.g. a bad key name): retrying cannot help until the SealedSecret changes
        throw e;
      }
      this.metrics.unsealTotal.inc({ result: 'ok' });
      this.logger.info({ sealedSecret: key, action: plan.kind, values: unsealed.data.size }, 'Secret written from SealedSecret');
      await this.events.record(involvedObjectOf(ss), 'Normal', 'Unsealed', 'SealedSecret unsealed successfully');
      if (unsealed.legacy) await this.events.record(involvedObjectOf(ss), 'Warning', 'LegacyFormat', LEGACY_ADVICE);
    } else {
      this.metrics.unsealTotal.inc({ result: 'unchanged' });
      this.logger.debug({ sealedSecret: key }, 'Secret already up to date');
    }
    await this.writeStatus(ss, true, 'Unsealed', unsealed.legacy ? `Secret unsealed successfully; ${LEGACY_ADVICE}` : 'Secret unsealed successfully');
  }

  private async write(plan: Exclude<Plan, { kind: 'unchanged' | 'refused' }>): Promise<void> {
    const client = this.client;
    const opts = { fieldManager: FIELD_MANAGER };
    if (plan.kind === 'create') await client.create(SECRETS, plan.secret, opts);
    else if (plan.kind === 'update') await client.replace(SECRETS, plan.secret, opts);
    else {
      await client.delete(SECRETS, plan.secret.metadata.namespace, plan.secret.metadata.name!, { uid: plan.oldUid });
      await client.create(SECRETS, plan.secret, opts);
    }
  }

  /** Writes status only when it changes, so a restart or a repeated event writes nothing. */
  private async writeStatus(ss: SealedSecret, ok: boolean, reason: string, message: string): Promise<void> {
    const prev = ss.status?.conditions?.find((c) => c.type === 'Synced');
    const status = ok ? 'True' : 'False';
    if (ss.status?.observedGeneration === ss.metadata.generation && prev?.status === status && prev.message === message) return;
    const condition = syncedCondition(prev, ok, reason, message, new Date().toISOString());
    const conditions = [...(ss.status?.conditions ?? []).filter((c) => c.type !== 'Synced'), condition];
    try {
      await this.client.patch(SEALEDSECRETS, ss.metadata.namespace, ss.metadata.name!, 'merge', { status: { observedGeneration: ss.metadata.generation, conditions } }, { subresource: 'status', fieldManager: FIELD_MANAGER });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}

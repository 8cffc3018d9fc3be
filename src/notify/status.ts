// A Notifier's Secret and Ready condition. The Secret is read when a notification is sent (never cached, so a
// rotated Slack URL is used at once) and checked for size and scheme; errors name the Secret and the key, never a
// value. The Ready condition is level-triggered: the spec, the Secret and the last delivery outcome decide it.

import { isNotFound } from '../kube/client.js';
import type { KubeClient } from '../kube/client.js';
import { SECRETS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { Condition } from '../gitsync/spec.js';
import type { DeliveryOutcome } from './dispatcher.js';
import type { NotifierSecret } from './payload.js';
import { addressProblem } from './send.js';
import type { NotifierRecord } from './spec.js';
import { errorText } from '../kube/errors.js';

const MAX_FIELD = 4096;

/** Decodes and checks a Secret's `address`, `token` and `hmacKey`; throws an Error that is safe to show. */
export function notifierSecretOf(secret: KubeObject | undefined, namespace: string, name: string, type?: string): NotifierSecret {
  const where = `Secret ${namespace}/${name}`;
  if (!secret) throw new Error(`${where} not found: create it with the key "address"`);
  const data = (secret.data ?? {}) as Record<string, unknown>;
  const field = (k: string): string | undefined => {
    const v = data[k];
    if (typeof v !== 'string') return undefined;
    if (v.length > MAX_FIELD * 2) throw new Error(`${where}: "${k}" is larger than ${MAX_FIELD} bytes`);
    return Buffer.from(v, 'base64').toString('utf8').trim();
  };
  const address = field('address');
  if (!address) throw new Error(`${where} has no "address" key`);
  const problem = addressProblem(address);
  if (problem) throw new Error(`${where}: ${problem}`);
  const hmacKey = field('hmacKey') || undefined;
  if (type === 'webhook' && !hmacKey) throw new Error(`${where} has no "hmacKey" key: a webhook Notifier signs its requests (HMAC-SHA256)`);
  return { address, token: field('token') || undefined, hmacKey };
}

/**
 * Read with Keelson's own identity, unlike a GitSync's or ImagePolicy's Secrets (gitsync/identity.ts): here the
 * destination is the Secret's own `address`, not a URL in the tenant's spec, so `token` and `hmacKey` only ever go
 * to the endpoint stored next to them, and messages never show a value. A tenant who names a Secret it cannot read
 * learns nothing from it; at most its own namespace's Events (allNamespaces counts only in the controller
 * namespace) are posted to that Secret's endpoint.
 */
export async function loadNotifierSecret(client: KubeClient, namespace: string, name: string, type?: string): Promise<NotifierSecret> {
  let secret: KubeObject | undefined;
  try {
    secret = await client.tryGet(SECRETS, namespace, name);
  } catch (err) {
    if (!isNotFound(err)) throw new Error(`could not read Secret ${namespace}/${name}: ${errorText(err)}`);
  }
  return notifierSecretOf(secret, namespace, name, type);
}

/** The Ready condition for a Notifier from its spec, whether its Secret checks out, and its last delivery. */
export function readyFor(r: NotifierRecord, secretProblem: string | undefined, last: DeliveryOutcome | undefined, controllerNamespace: string): Omit<Condition, 'lastTransitionTime'> {
  const base = { type: 'Ready', observedGeneration: r.generation };
  if (r.invalid) return { ...base, status: 'False', reason: 'InvalidSpec', message: r.invalid };
  if (secretProblem) return { ...base, status: 'False', reason: 'SecretInvalid', message: secretProblem };
  if (r.suspend) return { ...base, status: 'True', reason: 'Suspended', message: 'spec.suspend is true: nothing is sent' };
  if (last && !last.ok) return { ...base, status: 'False', reason: 'DeliveryFailed', message: last.message };
  const scope = r.allNamespaces && r.namespace !== controllerNamespace
    ? `; spec.allNamespaces is ignored outside the controller namespace (${controllerNamespace}): this Notifier hears only ${r.namespace}`
    : '';
  return { ...base, status: 'True', reason: 'Ready', message: `${last ? last.message : 'ready'}${scope}` };
}

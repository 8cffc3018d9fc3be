// The SealedSecret shape and the pure steps from one to the Secret it stands for: open every value (trying the key
// that opened it last time first), render spec.template.data, and build the Secret. Errors name the value's key,
// never its content; nothing is returned unless every value opened.

import type { KeyObject } from 'node:crypto';
import type { KubeObject, ObjectMeta } from '../kube/types.js';
import { labelFor, type Scope, scopeFromAnnotations } from './scope.js';
import { renderTemplates, shown, TemplateError } from './template.js';
import { AttemptBudget, DecryptError, decryptValue, encryptValue } from './wire.js';

export const SEALEDSECRET_API_VERSION = 'bitnami.com/v1alpha1';
export const SEALEDSECRET_KIND = 'SealedSecret';
export const ANNOTATION_MANAGED = 'sealedsecrets.bitnami.com/managed';
export const ANNOTATION_PATCH = 'sealedsecrets.bitnami.com/patch';
export const ANNOTATION_SKIP_OWNER = 'sealedsecrets.bitnami.com/skip-set-owner-references';

export interface SecretTemplate {
  metadata?: Partial<ObjectMeta>;
  type?: string;
  immutable?: boolean;
  data?: Record<string, string>;
}

export interface SealedSecret extends KubeObject {
  spec?: { encryptedData?: Record<string, string | null>; template?: SecretTemplate; data?: string };
  status?: { observedGeneration?: number; conditions?: SyncedCondition[] };
}

export interface SyncedCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface Secret extends KubeObject {
  type?: string;
  immutable?: boolean;
  data?: Record<string, string>;
}

/** Why a SealedSecret cannot become a Secret; `reason` is a condition/event reason, `message` names no value. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  constructor(readonly reason: 'ErrUnsealFailed' | 'UnsupportedTemplate' | 'InvalidSealedSecret', message: string) { super(message); }
}

export function scopeOf(ss: SealedSecret): Scope {
  return scopeFromAnnotations(ss.metadata.annotations);
}

export interface Unsealed {
  /** The Secret's data: decrypted values, then rendered templates over them. */
  readonly data: Map<string, Buffer>;
  /** Index of the key that opened the values (the last one tried, when several keys were involved). */
  readonly keyIndex: number;
}

/** Opens every encryptedData value and renders the templates; throws UnsealError naming the first failing key. */
export function unsealSealedSecret(ss: SealedSecret, keys: readonly KeyObject[], preferredKey = -1): Unsealed {
  const ref = `SealedSecret ${ss.metadata.namespace}/${ss.metadata.name}`;
  if (ss.spec?.data !== undefined && ss.spec.encryptedData === undefined) {
    throw new UnsealError('InvalidSealedSecret', `${ref} uses the legacy spec.data format; re-seal it with "keelson seal" (spec.encryptedData)`);
  }
  const label = labelFor(scopeOf(ss), ss.metadata.namespace ?? '', ss.metadata.name ?? '');
  const values = new Map<string, Buffer>();
  let keyIndex = preferredKey;
  const entries = Object.entries(ss.spec?.encryptedData ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const budget = AttemptBudget.forObject(entries.length, keys.length);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new UnsealError('InvalidSealedSecret', `${ref}: spec.encryptedData["${shown(k)}"] is not a string`);
    try {
      const opened = decryptValue(keys, v, label, keyIndex, budget);
      values.set(k, opened.plaintext);
      keyIndex = opened.keyIndex;
    } catch (e) {
      const why = e instanceof DecryptError ? e.message : 'cannot be decrypted';
      throw new UnsealError('ErrUnsealFailed', `${ref}: value "${shown(k)}" cannot be unsealed: ${why}`);
    }
  }
  const templates = ss.spec?.template?.data;
  if (templates && Object.keys(templates).length > 0) {
    try {
      for (const [k, v] of renderTemplates(templates, values)) values.set(k, v);
    } catch (e) {
      if (e instanceof TemplateError) throw new UnsealError('UnsupportedTemplate', `${ref}: ${e.message}`);
      throw e;
    }
  }
  return { data: values, keyIndex };
}

/** Re-seals every value for the same scope with another public key (the newest), keeping the rest of the object. */
export function resealSealedSecret(ss: SealedSecret, keys: readonly KeyObject[], newKey: KeyObject): SealedSecret {
  const label = labelFor(scopeOf(ss), ss.metadata.namespace ?? '', ss.metadata.name ?? '');
  const encryptedData: Record<string, string> = {};
  const entries = Object.entries(ss.spec?.encryptedData ?? {});
  const budget = AttemptBudget.forObject(entries.length, keys.length);
  let keyIndex = -1; // the key that opened the previous value is tried first, as in unsealSealedSecret
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new UnsealError('InvalidSealedSecret', `spec.encryptedData["${shown(k)}"] is not a string`);
    let plaintext: Buffer;
    try { ({ plaintext, keyIndex } = decryptValue(keys, v, label, keyIndex, budget)); } catch (e) {
      throw new UnsealError('ErrUnsealFailed', `value "${shown(k)}" cannot be unsealed: ${(e as Error).message}`);
    }
    encryptedData[k] = encryptValue(newKey, plaintext, label);
  }
  return { ...ss, spec: { ...ss.spec, encryptedData } };
}

export function ownerReferenceOf(ss: SealedSecret) {
  return { apiVersion: SEALEDSECRET_API_VERSION, kind: SEALEDSECRET_KIND, name: ss.metadata.name!, uid: ss.metadata.uid!, controller: true };
}

/** The Secret a SealedSecret stands for: its name and namespace, template metadata, type, immutable, owner. */
export function desiredSecret(ss: SealedSecret, data: ReadonlyMap<string, Buffer>): Secret {
  const tpl = ss.spec?.template ?? {};
  const meta = tpl.metadata ?? {};
  const metadata: ObjectMeta = { name: ss.metadata.name!, namespace: ss.metadata.namespace! };
  if (meta.labels && Object.keys(meta.labels).length) metadata.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) metadata.annotations = { ...meta.annotations };
  if (ss.metadata.annotations?.[ANNOTATION_SKIP_OWNER] !== 'true') metadata.ownerReferences = [ownerReferenceOf(ss)];
  const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata, type: tpl.type || 'Opaque', data: {} };
  if (tpl.immutable !== undefined) secret.immutable = tpl.immutable;
  for (const [k, v] of [...data].sort(([a], [b]) => a.localeCompare(b))) secret.data![k] = v.toString('base64');
  return secret;
}

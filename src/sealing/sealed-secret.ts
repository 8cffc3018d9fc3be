// The SealedSecret shape and the pure steps from one to the Secret it stands for: open every value (trying the key
// that opened it last time first), render spec.template.data, and build the Secret. Errors name the value's key,
// never its content; nothing is returned unless every value opened.

import type { KeyObject } from 'node:crypto';
import type { KubeObject, ObjectMeta } from '../kube/types.js';
import { LegacyFormatError, openLegacyData } from './legacy.js';
import { labelFor, type Scope, scopeFromAnnotations } from './scope.js';
import { renderTemplates, shown, TemplateError } from './template.js';
import { AttemptBudget, DecryptError, decryptValue, encryptValue } from './wire.js';
import { byKey } from '../kube/order.js';

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
  /** Set for a legacy `spec.data` object: the decrypted Secret's type and metadata, used instead of spec.template. */
  readonly legacy?: SecretTemplate;
}

/** A legacy object: `spec.data` set and no per-value encryptedData (the CRD requires encryptedData, so `{}`). */
export function isLegacy(ss: SealedSecret): boolean {
  return typeof ss.spec?.data === 'string' && ss.spec.data !== '' && Object.keys(ss.spec.encryptedData ?? {}).length === 0;
}

function unsealLegacy(ss: SealedSecret, ref: string, keys: readonly KeyObject[], preferredKey: number): Unsealed {
  const label = labelFor(scopeOf(ss), ss.metadata.namespace ?? '', ss.metadata.name ?? '');
  try {
    const o = openLegacyData(keys, ss.spec!.data!, label, preferredKey, AttemptBudget.forObject(1, keys.length));
    const legacy: SecretTemplate = {};
    if (o.type !== undefined) legacy.type = o.type;
    if (o.immutable !== undefined) legacy.immutable = o.immutable;
    if (o.labels || o.annotations) legacy.metadata = { ...(o.labels ? { labels: o.labels } : {}), ...(o.annotations ? { annotations: o.annotations } : {}) };
    return { data: o.data, keyIndex: o.keyIndex, legacy };
  } catch (e) {
    if (e instanceof LegacyFormatError) throw new UnsealError('InvalidSealedSecret', `${ref}: ${e.message}`);
    const why = e instanceof DecryptError ? e.message : 'cannot be decrypted';
    throw new UnsealError('ErrUnsealFailed', `${ref}: legacy spec.data cannot be unsealed: ${why}`);
  }
}

/** Opens every encryptedData value and renders the templates; throws UnsealError naming the first failing key. */
export function unsealSealedSecret(ss: SealedSecret, keys: readonly KeyObject[], preferredKey = -1): Unsealed {
  const ref = `SealedSecret ${ss.metadata.namespace}/${ss.metadata.name}`;
  if (typeof ss.spec?.data === 'string' && ss.spec.data !== '') {
    // As the bitnami controller: the two formats never mix.
    if (!isLegacy(ss)) throw new UnsealError('InvalidSealedSecret', `${ref}: spec.encryptedData and the deprecated spec.data cannot be used together; drop spec.data`);
    return unsealLegacy(ss, ref, keys, preferredKey);
  }
  const label = labelFor(scopeOf(ss), ss.metadata.namespace ?? '', ss.metadata.name ?? '');
  const values = new Map<string, Buffer>();
  let keyIndex = preferredKey;
  const entries = Object.entries(ss.spec?.encryptedData ?? {}).sort(byKey);
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
  if (typeof ss.spec?.data === 'string' && ss.spec.data !== '') {
    // A legacy object comes back in the current format (as bitnami's rotate does): per-value encryptedData, the
    // decrypted Secret's type and metadata as spec.template.
    const opened = unsealSealedSecret(ss, keys);
    const encryptedData: Record<string, string> = {};
    for (const [k, v] of [...opened.data].sort(byKey)) encryptedData[k] = encryptValue(newKey, v, label);
    const { data: _legacy, ...spec } = ss.spec;
    return { ...ss, spec: { ...spec, encryptedData, template: { ...opened.legacy } } };
  }
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
export function desiredSecret(ss: SealedSecret, data: ReadonlyMap<string, Buffer>, legacy?: SecretTemplate): Secret {
  const tpl = legacy ?? ss.spec?.template ?? {};
  const meta = tpl.metadata ?? {};
  const metadata: ObjectMeta = { name: ss.metadata.name!, namespace: ss.metadata.namespace! };
  if (meta.labels && Object.keys(meta.labels).length) metadata.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) metadata.annotations = { ...meta.annotations };
  if (ss.metadata.annotations?.[ANNOTATION_SKIP_OWNER] !== 'true') metadata.ownerReferences = [ownerReferenceOf(ss)];
  const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata, type: tpl.type || 'Opaque', data: {} };
  if (tpl.immutable !== undefined) secret.immutable = tpl.immutable;
  for (const [k, v] of [...data].sort(byKey)) secret.data![k] = v.toString('base64');
  return secret;
}

// Sealing a Secret into a SealedSecret, as kubeseal does: every data/stringData value encrypted for the scope with
// the certificate's public key, the Secret's metadata, type and immutable kept in spec.template, the scope recorded
// in annotations. Pure (apart from the randomness of encryption).

import type { KeyObject, X509Certificate } from 'node:crypto';
import type { ObjectMeta } from '../kube/types.js';
import { Base64Error, decodeStrictBase64 } from './base64.js';
import { ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE, type Scope, labelFor, scopeAnnotations, scopeFromAnnotations } from './scope.js';
import { SEALEDSECRET_API_VERSION, SEALEDSECRET_KIND, type SealedSecret, type Secret, type SecretTemplate } from './sealed-secret.js';
import { encryptValue } from './wire.js';
import { byKey } from '../kube/order.js';

export class SealError extends Error {
  override readonly name = 'SealError';
}

/** The Secret's values: data (base64) then stringData over it, as the API server merges them. */
export function secretValues(secret: Secret & { stringData?: Record<string, string> }): Map<string, Buffer> {
  const ref = `Secret ${secret.metadata.namespace ?? ''}/${secret.metadata.name ?? ''}`;
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    if (typeof v !== 'string') throw new SealError(`${ref}: data["${k}"] is not a string`);
    try { out.set(k, decodeStrictBase64(v)); } catch (e) {
      throw new SealError(`${ref}: data["${k}"] is not valid base64 (${e instanceof Base64Error ? e.message : 'unreadable'}); put plain text in stringData instead`);
    }
  }
  for (const [k, v] of Object.entries(secret.stringData ?? {})) {
    if (typeof v !== 'string') throw new SealError(`${ref}: stringData["${k}"] is not a string (quote it in YAML)`);
    out.set(k, Buffer.from(v, 'utf8'));
  }
  return out;
}

/** Checks a certificate can seal now; the message says what to do instead. */
export function checkCertificate(cert: X509Certificate, now = new Date()): void {
  if (new Date(cert.validTo).getTime() < now.getTime()) {
    throw new SealError(`the sealing certificate expired on ${new Date(cert.validTo).toISOString()}; fetch the controller's current certificate (omit --cert, or download /v1/cert.pem again)`);
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') throw new SealError('the sealing certificate does not hold an RSA key');
}

export function sealValues(values: ReadonlyMap<string, Buffer>, publicKey: KeyObject, scope: Scope, namespace: string, name: string): Record<string, string> {
  const label = labelFor(scope, namespace, name);
  const out: Record<string, string> = {};
  for (const [k, v] of [...values].sort(byKey)) out[k] = encryptValue(publicKey, v, label);
  return out;
}

const TEMPLATE_METADATA_DROP = ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'selfLink', 'generation', 'ownerReferences', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName'] as const;

/**
 * A SealedSecret for the Secret. `scope` undefined means: the scope the Secret's own annotations ask for, else strict.
 * name and namespace must be set by the caller (flags beat the Secret's metadata).
 */
export function sealSecret(secret: Secret & { stringData?: Record<string, string> }, publicKey: KeyObject, scope: Scope | undefined, namespace: string, name: string): SealedSecret {
  const effective = scope ?? scopeFromAnnotations(secret.metadata.annotations);
  const annotations: Record<string, string> = { ...(secret.metadata.annotations ?? {}) };
  delete annotations[ANNOTATION_CLUSTER_WIDE];
  delete annotations[ANNOTATION_NAMESPACE_WIDE];
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  Object.assign(annotations, scopeAnnotations(effective));
  const meta: Partial<ObjectMeta> = { ...secret.metadata, name, namespace };
  for (const k of TEMPLATE_METADATA_DROP) delete meta[k];
  if (Object.keys(annotations).length) meta.annotations = annotations; else delete meta.annotations;
  const template: SecretTemplate = { metadata: meta, type: secret.type ?? 'Opaque' };
  if (secret.immutable !== undefined) template.immutable = secret.immutable;
  const ssMeta: ObjectMeta = { name, namespace };
  const scopeAnn = scopeAnnotations(effective);
  if (Object.keys(scopeAnn).length) ssMeta.annotations = scopeAnn;
  return {
    apiVersion: SEALEDSECRET_API_VERSION, kind: SEALEDSECRET_KIND, metadata: ssMeta,
    spec: { template, encryptedData: sealValues(secretValues(secret), publicKey, effective, namespace, name) },
  };
}

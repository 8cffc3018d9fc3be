// Sealing keys: parsing key Secrets and PEM files (PKCS#1 or PKCS#8 private keys, X.509 certificates) into KeyObjects,
// and generating new ones. The RSA pair comes from node:crypto (fast, native); node-forge only builds and signs the
// self-signed certificate, shaped like the reference controller's (empty CN, 10 years, random 128-bit serial).

import { KeyObject, X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { KubeObject } from '../kube/types.js';
import { decodeStrictBase64 } from './base64.js';
import { compareCodePoints } from '../kube/order.js';

export const KEY_LABEL = 'sealedsecrets.bitnami.com/sealed-secrets-key';
export const KEY_LABEL_ACTIVE = 'active';
export const CERT_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

export interface SealingKey {
  /** Where the key came from: "ns/secret-name" or a file name. */
  readonly source: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly certPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The key Secret's creationTimestamp (renewal schedules from it), else the certificate's notBefore. */
  readonly createdAt: Date;
  /** sha256 of the public key (SPKI DER), hex: names a key without revealing anything. */
  readonly fingerprint: string;
}

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

export function fingerprintOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

export function pemBlocks(text: string): { type: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1]!, pem: m[0] }));
}

export function parseCertificate(pem: string, source: string): X509Certificate {
  const block = pemBlocks(pem).find((b) => b.type === 'CERTIFICATE');
  if (!block) throw new KeyError(`${source}: no PEM CERTIFICATE block found`);
  try { return new X509Certificate(block.pem); } catch (e) { throw new KeyError(`${source}: not a valid X.509 certificate (${(e as Error).message})`); }
}

/** A private key from PEM: "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8). Errors never include key bytes. */
export function parsePrivateKey(pem: string, source: string): KeyObject {
  const block = pemBlocks(pem).find((b) => b.type === 'RSA PRIVATE KEY' || b.type === 'PRIVATE KEY');
  if (!block) throw new KeyError(`${source}: no PEM "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8) block found`);
  let key: KeyObject;
  try { key = createPrivateKey(block.pem); } catch { throw new KeyError(`${source}: the private key PEM does not parse`); }
  if (key.asymmetricKeyType !== 'rsa') throw new KeyError(`${source}: the private key is ${key.asymmetricKeyType}, sealing needs RSA`);
  return key;
}

/** Pairs a private key with its certificate, refusing a certificate made for another key. */
export function sealingKeyOf(keyPem: string, certPem: string, source: string, createdAt?: Date): SealingKey {
  const privateKey = parsePrivateKey(keyPem, source);
  const publicKey = createPublicKey(privateKey);
  const cert = parseCertificate(certPem, source);
  const fingerprint = fingerprintOf(publicKey);
  if (fingerprintOf(cert.publicKey) !== fingerprint) throw new KeyError(`${source}: the certificate does not belong to the private key`);
  const notBefore = new Date(cert.validFrom);
  return {
    source, privateKey, publicKey, certPem: cert.toString(), notBefore, notAfter: new Date(cert.validTo),
    createdAt: createdAt && !Number.isNaN(createdAt.getTime()) ? createdAt : notBefore, fingerprint,
  };
}

/** A `kubernetes.io/tls` key Secret (tls.key, tls.crt) as the controller and kubeseal store them. */
export function sealingKeyFromSecret(secret: KubeObject): SealingKey {
  const source = `Secret ${secret.metadata.namespace ?? ''}/${secret.metadata.name ?? ''}`.replace(' /', ' ');
  const data = (secret.data ?? {}) as Record<string, string>;
  const stringData = (secret.stringData ?? {}) as Record<string, string>;
  const field = (k: string): string => {
    if (stringData[k] !== undefined) return stringData[k];
    if (data[k] === undefined) throw new KeyError(`${source}: missing data["${k}"]`);
    try { return decodeStrictBase64(data[k]).toString('utf8'); } catch (e) { throw new KeyError(`${source}: data["${k}"]: ${(e as Error).message}`); }
  };
  const created = secret.metadata.creationTimestamp ? new Date(secret.metadata.creationTimestamp) : undefined;
  return sealingKeyOf(field('tls.key'), field('tls.crt'), source, created);
}

/** Newest first: by creation time, then certificate notBefore, then source (stable order). */
export function newestFirst(keys: Iterable<SealingKey>): SealingKey[] {
  return [...keys].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.notBefore.getTime() - a.notBefore.getTime() || compareCodePoints(a.source, b.source));
}

const generateKeyPairAsync = promisify(generateKeyPair);

export interface GeneratedKey {
  readonly keyPem: string;
  readonly certPem: string;
}

/** A new RSA key (PKCS#1 PEM, as the reference stores tls.key) and its self-signed 10-year certificate. */
export async function generateSealingKey(bits: number, now = new Date()): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  // Loaded here, not at the top: node-forge is ~2 MiB of heap that a controller whose key exists never needs.
  const { default: forge } = await import('node-forge');
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive, as X.509 requires
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = now;
  cert.validity.notAfter = new Date(now.getTime() + CERT_VALIDITY_MS);
  cert.setSubject([]);
  cert.setIssuer([]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyEncipherment: true, digitalSignature: true, keyCertSign: true, critical: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { keyPem, certPem: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n') }; // forge writes CRLF; PEM tools expect LF
}

/** The Secret a generated key is stored in: generateName like the reference controller's, label active. */
export function keySecretOf(key: GeneratedKey, namespace: string, prefix: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { generateName: prefix, namespace, labels: { [KEY_LABEL]: KEY_LABEL_ACTIVE } },
    data: { 'tls.crt': Buffer.from(key.certPem).toString('base64'), 'tls.key': Buffer.from(key.keyPem).toString('base64') },
  };
}

export { KeyObject };

// The sealed-secrets hybrid encryption, byte for byte: a fresh 32-byte AES key sealed with RSA-OAEP (SHA-256, label
// from the scope), then AES-256-GCM with a zero nonce (safe: each key encrypts exactly one value). Pure, node:crypto
// only. blob = uint16be(len(rsaCt)) || rsaCt || gcmCiphertext || tag(16).

import { type KeyObject, constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { decodeStrictBase64, encodeBase64 } from './base64.js';

const SESSION_KEY_BYTES = 32;
const NONCE = Buffer.alloc(12);
const TAG_BYTES = 16;

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
}

export function hybridEncrypt(publicKey: KeyObject, plaintext: Uint8Array, label: Buffer): Buffer {
  const sessionKey = randomBytes(SESSION_KEY_BYTES);
  const rsaCt = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', ...(label.length ? { oaepLabel: label } : {}) }, sessionKey);
  if (rsaCt.length > 0xffff) throw new Error('RSA key too large for the sealed-secrets format');
  const cipher = createCipheriv('aes-256-gcm', sessionKey, NONCE);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(rsaCt.length);
  return Buffer.concat([head, rsaCt, body]);
}

/** Opens a blob with one key; throws DecryptError (no detail: the reason must not help an attacker or leak data). */
export function hybridDecryptWith(privateKey: KeyObject, blob: Buffer, label: Buffer): Buffer {
  if (blob.length < 2) throw new DecryptError('ciphertext too short');
  const rsaLen = blob.readUInt16BE(0);
  if (blob.length < 2 + rsaLen + TAG_BYTES) throw new DecryptError('ciphertext too short');
  let sessionKey: Buffer;
  try {
    sessionKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', ...(label.length ? { oaepLabel: label } : {}) }, blob.subarray(2, 2 + rsaLen));
  } catch {
    throw new DecryptError('session key does not open with this key and scope');
  }
  if (sessionKey.length !== SESSION_KEY_BYTES) throw new DecryptError('session key has the wrong size');
  const rest = blob.subarray(2 + rsaLen);
  try {
    const decipher = createDecipheriv('aes-256-gcm', sessionKey, NONCE);
    decipher.setAuthTag(rest.subarray(rest.length - TAG_BYTES));
    return Buffer.concat([decipher.update(rest.subarray(0, rest.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptError('ciphertext fails authentication');
  }
}

/**
 * Private-key operations left for one object. The wire format names no key, so a value may need every key; an
 * object whose values keep switching keys would cost values × keys RSA operations (seconds to minutes on a tenant's
 * object). The budget bounds that while leaving room for any honest mix of keys.
 */
export class AttemptBudget {
  constructor(public left: number) {}
  /** values + 4 passes over the keyring, and never under 2,000 operations (a few seconds of one core). */
  static forObject(values: number, keys: number): AttemptBudget {
    return new AttemptBudget(Math.max(2_000, values + 4 * keys));
  }
}

export class BudgetExhaustedError extends DecryptError {}

/**
 * Opens a blob with the first key that works, trying `preferred` first (the key that opened this object last
 * time). Returns the plaintext and the index of the key that opened it. Each key tried spends one of `budget`.
 */
export function hybridDecrypt(keys: readonly KeyObject[], blob: Buffer, label: Buffer, preferred = -1, budget?: AttemptBudget): { plaintext: Buffer; keyIndex: number } {
  const order = preferred >= 0 && preferred < keys.length ? [preferred, ...keys.keys()].filter((k, i) => i === 0 || k !== preferred) : [...keys.keys()];
  for (const i of order) {
    if (budget) {
      if (budget.left <= 0) throw new BudgetExhaustedError('too many decryption attempts for one object: its values are sealed with many different keys (re-seal it with "keelson reencrypt")');
      budget.left--;
    }
    try { return { plaintext: hybridDecryptWith(keys[i]!, blob, label), keyIndex: i }; } catch { /* next key */ }
  }
  throw new DecryptError(keys.length === 0 ? 'no sealing keys loaded' : 'no key could decrypt the value (wrong scope, name, namespace or key)');
}

/** One `spec.encryptedData` value: base64 of the blob. */
export function encryptValue(publicKey: KeyObject, plaintext: Uint8Array, label: Buffer): string {
  return encodeBase64(hybridEncrypt(publicKey, plaintext, label));
}

export function decryptValue(keys: readonly KeyObject[], value: string, label: Buffer, preferred = -1, budget?: AttemptBudget): { plaintext: Buffer; keyIndex: number } {
  let blob: Buffer;
  try { blob = decodeStrictBase64(value); } catch (e) { throw new DecryptError((e as Error).message); }
  return hybridDecrypt(keys, blob, label, preferred, budget);
}

// An independent sealed-secrets decryptor written straight from the wire-format README with node:crypto, sharing no
// code with src/sealing, so a test can check that what Keelson seals is what the reference format says.

import { constants, createDecipheriv, createHash, privateDecrypt, type KeyObject } from 'node:crypto';

export function referenceDecrypt(privateKey: KeyObject | string, value: string, label: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw new Error('not padded standard base64');
  const blob = Buffer.from(value, 'base64');
  const n = blob.readUInt16BE(0);
  const aesKey = label === ''
    ? privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, blob.subarray(2, 2 + n))
    : privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) }, blob.subarray(2, 2 + n));
  const body = blob.subarray(2 + n);
  const d = createDecipheriv('aes-256-gcm', aesKey, Buffer.alloc(12));
  d.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

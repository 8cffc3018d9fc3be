// Key generation and the keyring: a generated key has a 10-year self-signed certificate for its own public key and
// seals/opens; the keyring orders newest first and remembers which key opened an object.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { Keyring } from '../../../src/sealing/keyring.js';
import { CERT_VALIDITY_MS, KEY_LABEL, generateSealingKey, keySecretOf, sealingKeyFromSecret, sealingKeyOf } from '../../../src/sealing/keys.js';
import { labelFor } from '../../../src/sealing/scope.js';
import { decryptValue, encryptValue } from '../../../src/sealing/wire.js';
import { referenceDecrypt } from './independent-decrypt.js';

describe('generated keys', () => {
  it('makes an RSA key with a self-signed 10-year certificate, stored as a tls Secret', async () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const gen = await generateSealingKey(2048, now);
    const cert = new X509Certificate(gen.certPem);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(new Date(cert.validFrom).getTime(), now.getTime());
    assert.equal(new Date(cert.validTo).getTime(), now.getTime() + CERT_VALIDITY_MS);
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.match(gen.keyPem, /BEGIN RSA PRIVATE KEY/);
    const secret = keySecretOf(gen, 'ks', 'sealed-secrets-key');
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal(secret.metadata.generateName, 'sealed-secrets-key');
    assert.equal(secret.metadata.labels![KEY_LABEL], 'active');
    const key = sealingKeyFromSecret({ ...secret, metadata: { ...secret.metadata, name: 'k1', creationTimestamp: '2030-01-01T00:00:00Z' } });
    assert.equal(key.createdAt.toISOString(), '2030-01-01T00:00:00.000Z');
    const value = encryptValue(key.publicKey, Buffer.from('hello'), labelFor('strict', 'a', 'b'));
    assert.equal(referenceDecrypt(gen.keyPem, value, 'a/b').toString(), 'hello');
  });

  it('keyring: newest first, hint remembered, wrong pairs refused', async () => {
    const [a, b] = await Promise.all([generateSealingKey(2048), generateSealingKey(2048)]);
    const older = sealingKeyOf(a.keyPem, a.certPem, 'a', new Date('2030-01-01T00:00:00Z'));
    const newer = sealingKeyOf(b.keyPem, b.certPem, 'b', new Date('2030-02-01T00:00:00Z'));
    assert.throws(() => sealingKeyOf(a.keyPem, b.certPem, 'mixed'), /does not belong/);
    const ring = new Keyring();
    ring.set([older, newer]);
    assert.equal(ring.newest()!.source, 'b');
    const label = labelFor('cluster-wide', '', '');
    const v = encryptValue(older.publicKey, Buffer.from('x'), label);
    const opened = decryptValue(ring.privateKeys(), v, label, ring.hint('uid'));
    assert.equal(opened.keyIndex, 1);
    ring.remember('uid', opened.keyIndex);
    assert.equal(ring.hint('uid'), 1);
    assert.equal(decryptValue(ring.privateKeys(), v, label, ring.hint('uid')).plaintext.toString(), 'x');
    ring.set([newer]);
    assert.equal(ring.hint('uid'), -1);
  });
});

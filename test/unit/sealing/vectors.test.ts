// The bitnami sealed-secrets compatibility vectors (sealed by the reference code): every positive opens to the stated
// plaintext (sha256 checked too), every negative fails, and the whole manifests produce the expected Secrets.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parsePrivateKey, sealingKeyFromSecret, sealingKeyOf } from '../../../src/sealing/keys.js';
import { desiredSecret, type SealedSecret, unsealSealedSecret } from '../../../src/sealing/sealed-secret.js';
import { labelFor, scopeFromAnnotations } from '../../../src/sealing/scope.js';
import { decryptValue } from '../../../src/sealing/wire.js';

const DIR = join(import.meta.dirname, '../../fixtures/sealed-secrets');
const read = (p: string) => readFileSync(join(DIR, p), 'utf8');

interface Vector {
  id: string; scope: string; namespace: string; name: string; key: string; sealedsecret_annotations: Record<string, string>;
  plaintext_b64: string; plaintext_sha256: string; encrypted_data: string; expect: string; oaep_label: string;
  decrypt_namespace?: string; decrypt_name?: string; decrypt_annotations?: Record<string, string>; decrypt_keyring?: string[];
}
const file = JSON.parse(read('vectors.json')) as { vectors: Vector[]; negative_vectors: Vector[]; keyring: string[] };
const keyring = file.keyring.map((p) => parsePrivateKey(read(p), p));

describe('sealed-secrets vectors', () => {
  it('has the expected number of vectors', () => {
    assert.equal(file.vectors.length, 31);
    assert.equal(file.negative_vectors.length, 3);
  });

  for (const v of file.vectors) {
    it(`opens ${v.id}`, () => {
      const scope = scopeFromAnnotations(v.sealedsecret_annotations);
      assert.equal(scope, v.scope);
      const label = labelFor(scope, v.namespace, v.name);
      assert.equal(label.toString('utf8'), v.oaep_label);
      const { plaintext } = decryptValue(keyring, v.encrypted_data, label);
      assert.equal(plaintext.toString('base64'), v.plaintext_b64);
      assert.equal(createHash('sha256').update(plaintext).digest('hex'), v.plaintext_sha256);
    });
  }

  for (const v of file.negative_vectors) {
    it(`refuses ${v.id}`, () => {
      const keys = (v.decrypt_keyring ?? file.keyring).map((p) => parsePrivateKey(read(p), p));
      const scope = scopeFromAnnotations(v.decrypt_annotations ?? v.sealedsecret_annotations);
      const label = labelFor(scope, v.decrypt_namespace ?? v.namespace, v.decrypt_name ?? v.name);
      assert.throws(() => decryptValue(keys, v.encrypted_data, label), /no key could decrypt|invalid base64/);
    });
  }

  it('accepts the same key as PKCS#8', () => {
    const v = file.vectors.find((x) => x.id.startsWith('k2048-strict-ascii'))!;
    const key = parsePrivateKey(read('keys/key-2048.pkcs8.pem'), 'pkcs8');
    const { plaintext } = decryptValue([key], v.encrypted_data, labelFor('strict', v.namespace, v.name));
    assert.equal(plaintext.toString('base64'), v.plaintext_b64);
  });

  it('reads the keyring Secrets List and pairs keys with their certificates', () => {
    const list = parseAllDocuments(read('keys/keyring-secrets.yaml'))[0]!.toJS() as { items: never[] };
    const keys = list.items.map((s) => sealingKeyFromSecret(s));
    assert.equal(keys.length, 2);
    assert.equal(keys[0]!.certPem.trim(), read('keys/cert-4096.pem').trim());
    assert.throws(() => sealingKeyOf(read('keys/key-2048.pem'), read('keys/cert-other-2048.pem'), 'mismatch'), /does not belong/);
  });

  const expected = JSON.parse(read('manifests/expected-secrets.json')) as Record<string, { expected_secret: Record<string, unknown> }>;
  for (const f of readdirSync(join(DIR, 'manifests')).filter((n) => n.endsWith('.yaml') && !n.includes('expected'))) {
    it(`turns manifests/${f} into the expected Secret`, () => {
      const ss = parseAllDocuments(read(`manifests/${f}`))[0]!.toJS() as SealedSecret;
      ss.metadata.uid = '<uid of the SealedSecret>';
      const { data } = unsealSealedSecret(ss, keyring);
      const secret = desiredSecret(ss, data);
      assert.deepEqual(JSON.parse(JSON.stringify(secret)), expected[f]!.expected_secret);
      const fromYaml = parseAllDocuments(read(`manifests/${f.replace('.yaml', '.expected-secret.yaml')}`))[0]!.toJS();
      assert.deepEqual(JSON.parse(JSON.stringify(secret)), fromYaml);
    });
  }
});

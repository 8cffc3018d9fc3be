// Legacy `spec.data` SealedSecrets (issue 15): the whole Secret as JSON, hybrid-encrypted with the scope label, as
// the bitnami controller's Unseal reads it; the shape of the decrypted Secret checked, the two formats never mixed,
// and reseal converting to spec.encryptedData.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sealingKeyOf } from '../../../src/sealing/keys.js';
import { labelFor } from '../../../src/sealing/scope.js';
import { type SealedSecret, UnsealError, desiredSecret, isLegacy, resealSealedSecret, unsealSealedSecret } from '../../../src/sealing/sealed-secret.js';
import { hybridEncrypt } from '../../../src/sealing/wire.js';

const FIX = join(import.meta.dirname, '../../fixtures/sealed-secrets/keys');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
const a = sealingKeyOf(read('key-2048.pem'), read('cert-2048.pem'), 'a');
const b = sealingKeyOf(read('key-4096.pem'), read('cert-4096.pem'), 'b');

function legacy(secret: unknown, opts: { ns?: string; name?: string; label?: Buffer; annotations?: Record<string, string>; raw?: Buffer } = {}): SealedSecret {
  const ns = opts.ns ?? 'apps';
  const name = opts.name ?? 'db';
  const plaintext = opts.raw ?? Buffer.from(JSON.stringify(secret));
  const blob = hybridEncrypt(a.publicKey, plaintext, opts.label ?? labelFor('strict', ns, name));
  return {
    apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret',
    metadata: { name, namespace: ns, uid: 'u1', ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: { encryptedData: {}, data: blob.toString('base64') },
  };
}

const SECRET = {
  apiVersion: 'v1', kind: 'Secret',
  metadata: { name: 'ignored', namespace: 'ignored', labels: { app: 'db' }, annotations: { note: 'n' } },
  type: 'kubernetes.io/basic-auth',
  data: { username: Buffer.from('admin').toString('base64'), bin: Buffer.from([0, 255]).toString('base64') },
  stringData: { password: 'pw', username: 'root' },
};

describe('legacy spec.data', () => {
  it('opens the whole Secret: data, stringData over data, type and metadata; name and namespace from the SealedSecret', () => {
    const ss = legacy(SECRET);
    assert.equal(isLegacy(ss), true);
    const out = unsealSealedSecret(ss, [b.privateKey, a.privateKey]);
    assert.equal(out.keyIndex, 1);
    assert.deepEqual(Object.fromEntries([...out.data].map(([k, v]) => [k, v.toString('base64')])), {
      username: Buffer.from('root').toString('base64'), password: Buffer.from('pw').toString('base64'), bin: 'AP8=',
    });
    const secret = desiredSecret(ss, out.data, out.legacy);
    assert.equal(secret.metadata.name, 'db');
    assert.equal(secret.metadata.namespace, 'apps');
    assert.equal(secret.type, 'kubernetes.io/basic-auth');
    assert.deepEqual(secret.metadata.labels, { app: 'db' });
    assert.deepEqual(secret.metadata.annotations, { note: 'n' });
    assert.equal(secret.metadata.ownerReferences?.[0]?.uid, 'u1');
  });

  it('uses the SealedSecret scope label: namespace-wide opens under another name, strict does not', () => {
    const nsWide = legacy(SECRET, { name: 'other', label: labelFor('namespace-wide', 'apps', 'x'), annotations: { 'sealedsecrets.bitnami.com/namespace-wide': 'true' } });
    assert.equal(unsealSealedSecret(nsWide, [a.privateKey]).data.get('password')?.toString(), 'pw');
    const moved = legacy(SECRET, { label: labelFor('strict', 'apps', 'elsewhere') });
    assert.throws(() => unsealSealedSecret(moved, [a.privateKey]), (e: unknown) => e instanceof UnsealError && e.reason === 'ErrUnsealFailed' && /legacy spec\.data/.test(e.message));
  });

  it('refuses mixing spec.data with encryptedData, as bitnami does', () => {
    const ss = legacy(SECRET);
    ss.spec!.encryptedData = { x: 'AAAA' };
    assert.equal(isLegacy(ss), false);
    assert.throws(() => unsealSealedSecret(ss, [a.privateKey]), /cannot be used together/);
  });

  for (const [what, raw, why] of [
    ['not JSON', Buffer.from('{"data":'), /not hold a Secret as JSON/],
    ['an array', Buffer.from('[1]'), /not hold a Secret as JSON/],
    ['another kind', Buffer.from('{"kind":"ConfigMap"}'), /not a Secret/],
    ['a non-string value', Buffer.from('{"data":{"a":1}}'), /data holds a value that is not a string/],
    ['bad base64', Buffer.from('{"data":{"a":"%%%"}}'), /data\["a"\] is not base64/],
    ['bad metadata', Buffer.from('{"metadata":"x"}'), /metadata is not an object/],
    ['a secret value in a type error', Buffer.from('{"type":{"s3cr3t":1}}'), /type is not a string/],
  ] as const) {
    it(`refuses a decrypted Secret that is ${what}, naming no value`, () => {
      assert.throws(() => unsealSealedSecret(legacy(null, { raw }), [a.privateKey]), (e: unknown) => e instanceof UnsealError && e.reason === 'InvalidSealedSecret' && why.test(e.message) && !/s3cr3t|%%%/.test(e.message));
    });
  }

  it('refuses an oversized spec.data before decrypting', () => {
    const ss = legacy(SECRET);
    ss.spec!.data = 'A'.repeat(3 * 1024 * 1024);
    assert.throws(() => unsealSealedSecret(ss, [a.privateKey]), /over 2097152 bytes/);
  });

  it('reseal converts it to spec.encryptedData with the Secret metadata as the template', () => {
    const re = resealSealedSecret(legacy(SECRET), [a.privateKey], b.publicKey);
    assert.equal(re.spec?.data, undefined);
    assert.deepEqual(Object.keys(re.spec!.encryptedData!), ['bin', 'password', 'username']);
    assert.equal(re.spec?.template?.type, 'kubernetes.io/basic-auth');
    const out = unsealSealedSecret(re, [b.privateKey]);
    assert.equal(out.legacy, undefined);
    assert.equal(out.data.get('username')?.toString(), 'root');
  });
});

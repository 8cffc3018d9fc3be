// The digest key Secret's content (pure part of src/reload/digest-key.ts) and the keyed digest forms: HMACs under
// the key, a public key id that reveals nothing, and no plain digest in anything published.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIGEST_KEY_SECRET, digestKeysFromSecret, newDigestKeySecret } from '../../../src/reload/digest-key.js';
import { PLAIN_FORM, contentDigest, keyId, keyedForm } from '../../../src/reload/digest.js';
import type { KubeObject } from '../../../src/kube/types.js';

const secret = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: DIGEST_KEY_SECRET, namespace: 'keelson-system' }, data } as KubeObject);
const b64 = (b: Buffer) => b.toString('base64');

describe('digest key Secret', () => {
  it('a new Secret holds 32 random bytes under data.key, in the given namespace', () => {
    const a = newDigestKeySecret('keelson-system');
    const b = newDigestKeySecret('keelson-system');
    assert.equal(a.metadata.name, DIGEST_KEY_SECRET);
    assert.equal(a.metadata.namespace, 'keelson-system');
    const key = Buffer.from((a.data as Record<string, string>).key!, 'base64');
    assert.equal(key.length, 32);
    assert.notDeepEqual(a.data, b.data);
    const parsed = digestKeysFromSecret(a);
    assert.ok('current' in parsed && parsed.current.kid === keyId(key) && parsed.previous === undefined);
  });

  it('reads data.previous as the earlier key', () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(48, 2);
    const parsed = digestKeysFromSecret(secret({ key: b64(k2), previous: b64(k1) }));
    assert.ok('current' in parsed);
    assert.equal(parsed.current.kid, keyId(k2));
    assert.equal(parsed.previous?.kid, keyId(k1));
  });

  it('refuses short or missing keys with a message that holds no key material', () => {
    for (const data of [{} as Record<string, string>, { key: b64(Buffer.alloc(16, 3)) }, { key: b64(Buffer.alloc(32, 3)), previous: b64(Buffer.alloc(4, 3)) }]) {
      const r = digestKeysFromSecret(secret(data));
      assert.ok('error' in r);
      for (const v of Object.values(data)) assert.ok(!r.error.includes(v));
    }
  });
});

describe('keyed digest forms', () => {
  const plain = contentDigest({ password: 'hunter2' }, undefined);
  const k = keyedForm(Buffer.alloc(32, 5));

  it('publishes h1:<HMAC-SHA256>, never the plain digest or a prefix of it', () => {
    const c = k.config(plain);
    assert.match(c, /^h1:[0-9a-f]{64}$/);
    assert.ok(!c.includes(plain.slice(0, 16)));
    const w = k.workload([{ kind: 'Secret', namespace: 'ns', name: 'db', digest: plain }]);
    assert.match(w, /^h1:[0-9a-f]{64}$/);
    assert.notEqual(w.slice(3), PLAIN_FORM.workload([{ kind: 'Secret', namespace: 'ns', name: 'db', digest: plain }]));
  });

  it('is deterministic under one key and differs under another', () => {
    assert.equal(keyedForm(Buffer.alloc(32, 5)).config(plain), k.config(plain));
    assert.notEqual(keyedForm(Buffer.alloc(32, 6)).config(plain), k.config(plain));
    assert.notEqual(keyedForm(Buffer.alloc(32, 6)).kid, k.kid);
  });

  it('the key id is short, stable and not the key', () => {
    const key = Buffer.alloc(32, 5);
    assert.match(keyId(key), /^[0-9a-f]{12}$/);
    assert.ok(!key.toString('hex').includes(keyId(key)));
  });

  it('refuses keys under 32 bytes', () => {
    assert.throws(() => keyedForm(Buffer.alloc(31)));
  });
});

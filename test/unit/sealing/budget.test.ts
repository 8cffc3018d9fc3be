// The decryption budget: the wire format names no key, so each value may need every key; an object whose values
// keep switching keys is bounded to about values + 4 passes over the keyring, while honest mixes still open.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sealingKeyOf } from '../../../src/sealing/keys.js';
import { labelFor } from '../../../src/sealing/scope.js';
import { type SealedSecret, resealSealedSecret, unsealSealedSecret } from '../../../src/sealing/sealed-secret.js';
import { AttemptBudget, BudgetExhaustedError, decryptValue, encryptValue } from '../../../src/sealing/wire.js';

const FIX = join(import.meta.dirname, '../../fixtures/sealed-secrets/keys');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
const a = sealingKeyOf(read('key-2048.pem'), read('cert-2048.pem'), 'a');
const b = sealingKeyOf(read('key-4096.pem'), read('cert-4096.pem'), 'b');
const label = labelFor('strict', 'ns', 'mix');

describe('decryption budget', () => {
  it('is values + 4 passes over the keys, never under 2,000', () => {
    assert.equal(AttemptBudget.forObject(10, 12).left, 2000);
    assert.equal(AttemptBudget.forObject(2000, 12).left, 2048);
  });

  it('spends one per key tried and stops with a message that says what to do', () => {
    const v = encryptValue(b.publicKey, Buffer.from('x'), label);
    const budget = new AttemptBudget(3);
    assert.equal(decryptValue([a.privateKey, b.privateKey], v, label, -1, budget).keyIndex, 1);
    assert.equal(budget.left, 1);
    assert.throws(() => decryptValue([a.privateKey, b.privateKey], v, label, 0, budget), (e: unknown) => e instanceof BudgetExhaustedError && /re-seal it with "keelson reencrypt"/.test(e.message));
  });

  it('opens an honest mix of keys, and reseal reuses the key that opened the previous value', () => {
    const encryptedData = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, encryptValue((i % 2 ? a : b).publicKey, Buffer.from(`v${i}`), label)]));
    const ss: SealedSecret = { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'mix', namespace: 'ns' }, spec: { encryptedData } };
    assert.equal(unsealSealedSecret(ss, [a.privateKey, b.privateKey]).data.get('k5')!.toString(), 'v5');
    const re = resealSealedSecret(ss, [b.privateKey, a.privateKey], b.publicKey);
    assert.equal(unsealSealedSecret(re, [b.privateKey]).data.get('k4')!.toString(), 'v4');
  });
});

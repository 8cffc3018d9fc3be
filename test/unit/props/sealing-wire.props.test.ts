// Property tests for the sealed-secrets input path: strict base64 and the hybrid wire format. Any string or blob
// a client sends either decodes or fails with the module's own error (never echoing the input), round-trips hold,
// and adversarial inputs up to 1 MiB are handled in linear time.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Base64Error, decodeStrictBase64, encodeBase64 } from '../../../src/sealing/base64.js';
import { DecryptError, decryptValue, encryptValue, hybridDecrypt, hybridDecryptWith, hybridEncrypt } from '../../../src/sealing/wire.js';
import { KiB, MiB, anyText, assertFast, grammar, onlyThrows, repeated } from '../../support/props.js';

const B64 = ['A', 'Q', 'z', '0', '9', '+', '/', '=', '==', '\n', '\r\n', '-', '_', ' ', 'AAAA'];

describe('strict base64 (properties)', () => {
  it('any string decodes to bytes or fails with Base64Error', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(B64)), (text) => {
      const out = onlyThrows(() => decodeStrictBase64(text), Base64Error);
      if (out) {
        const compact = text.replace(/[\r\n]/g, '');
        assert.equal(compact.length % 4, 0);
        assert.equal(encodeBase64(out).length, compact.length);
      }
    }), { numRuns: 2000 });
  });

  it('round-trips any bytes, also with CR/LF line breaks anywhere', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
      let text = encodeBase64(bytes);
      for (const c of cuts) { const at = c % (text.length + 1); text = `${text.slice(0, at)}\r\n${text.slice(at)}`; }
      assert.deepEqual(new Uint8Array(decodeStrictBase64(text)), bytes);
    }));
  });

  it('refuses URL-safe, unpadded and truncated forms of valid data', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), (bytes) => {
      const text = encodeBase64(bytes);
      if (text.endsWith('=')) assert.throws(() => decodeStrictBase64(text.replace(/=+$/, '')), Base64Error);
      if (/[+/]/.test(text)) assert.throws(() => decodeStrictBase64(text.replace(/\+/g, '-').replace(/\//g, '_')), Base64Error);
      assert.throws(() => decodeStrictBase64(text.slice(0, -1)), Base64Error);
    }));
  });

  it('never echoes the input in its error', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('s', 'e', 'c', 'r', 't', '!', '-'), minLength: 12, maxLength: 40 }), (text) => {
      try { decodeStrictBase64(text); } catch (err) { assert.ok(!(err as Error).message.includes(text)); }
    }));
  });

  it('adversarial 64 KiB–1 MiB inputs finish well under a second', () => {
    for (const size of [64 * KiB, MiB]) {
      for (const [name, text] of [
        ['valid', repeated('AAAA', size)], ['bad tail', repeated('AAAA', size, '', 'A=')], ['bad char at end', repeated('AAAA', size, '', '!AAA')],
        ['all padding', repeated('=', size)], ['CRLF runs', repeated('AA\r\n', size)], ['URL-safe', repeated('-_', size)],
      ] as const) assertFast(`base64 ${name} ${size}`, 1000, () => decodeStrictBase64(text));
    }
  });
});

describe('sealed-secrets wire format (properties)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const label = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));

  it('round-trips any plaintext under any label, whichever position the key has in the keyring', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), label, fc.boolean(), (plaintext, l, first) => {
      const blob = hybridEncrypt(publicKey, plaintext, l);
      const keys = first ? [privateKey, other] : [other, privateKey];
      const { plaintext: out, keyIndex } = hybridDecrypt(keys, blob, l);
      assert.deepEqual(new Uint8Array(out), plaintext);
      assert.equal(keyIndex, first ? 0 : 1);
      assert.deepEqual(new Uint8Array(decryptValue(keys, encryptValue(publicKey, plaintext, l), l).plaintext), plaintext);
    }), { numRuns: 30 });
  });

  it('any blob opens or fails with DecryptError; a flipped bit, a cut or another label never yields data', () => {
    const good = hybridEncrypt(publicKey, Buffer.from('value'), Buffer.from('ns/name'));
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 700 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => { const b = Buffer.from(good); b[at % b.length]! ^= 1 << bit; return b; }),
      fc.nat().map((n) => good.subarray(0, n % good.length)),
    ), (blob) => {
      onlyThrows(() => hybridDecryptWith(privateKey, blob, Buffer.from('ns/name')), DecryptError);
      assert.throws(() => hybridDecryptWith(privateKey, good, Buffer.from('ns/other')), DecryptError);
      if (!blob.equals(good)) assert.throws(() => hybridDecryptWith(privateKey, blob, Buffer.from('ns/name')), DecryptError);
    }), { numRuns: 60 });
  });

  it('any encryptedData string opens or fails with DecryptError (bad base64 included)', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(B64, 200)), (text) => {
      onlyThrows(() => decryptValue([privateKey], text, Buffer.alloc(0)), DecryptError);
    }), { numRuns: 200 });
  });

  it('a 1 MiB garbage value is refused quickly (one RSA attempt per key, linear decoding)', () => {
    assertFast('1 MiB blob', 1000, () => decryptValue([privateKey, other], encodeBase64(Buffer.alloc(MiB, 7)), Buffer.alloc(0)));
    assertFast('1 MiB bad base64', 1000, () => decryptValue([privateKey], repeated('AAAA', MiB, '', '!'), Buffer.alloc(0)));
  });
});

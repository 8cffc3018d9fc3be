// compareCodePoints against its definition: the order of the strings' UTF-8 bytes (what Go and JSON encoders sort by).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { byKey, compareCodePoints } from '../../../src/kube/order.js';

const utf8Order = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('compareCodePoints', () => {
  it('agrees with UTF-8 byte order on any well-formed strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      assert.equal(Math.sign(compareCodePoints(a, b)), utf8Order(a, b));
    }), { numRuns: 2000 });
  });
  it('puts characters above U+FFFF after U+E000–U+FFFF (where UTF-16 unit order does not), and is not locale order', () => {
    assert.ok(compareCodePoints('\u{1F600}', '\uFFFD') > 0);
    assert.ok('\u{1F600}' < '\uFFFD', 'unit order differs here');
    assert.deepEqual(['b', 'B', 'a', 'A', '_'].sort(compareCodePoints), ['A', 'B', '_', 'a', 'b']);
    assert.deepEqual(Object.entries({ b: 1, a: 2, B: 3 }).sort(byKey).map(([k]) => k), ['B', 'a', 'b']);
    assert.equal(compareCodePoints('ab', 'ab'), 0);
    assert.ok(compareCodePoints('a', 'ab') < 0);
  });
});

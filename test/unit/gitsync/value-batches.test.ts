// value-batches.ts: any JSON values survive being cut into batches and rebuilt, whatever the budget; no batch holds
// much more than the budget unless one string is longer; a "__proto__" key stays a plain property.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValueAssembler, type ValueOp, valueBatches } from '../../../src/gitsync/value-batches.js';

function roundTrip(values: unknown[], budget: number): { values: unknown[]; batches: ValueOp[][] } {
  const batches = [...valueBatches(values, budget)];
  const a = new ValueAssembler();
  for (const b of batches) a.add(structuredClone(b));
  return { values: a.values(), batches };
}

describe('value batches', () => {
  it('rebuilds any JSON values exactly, at any budget', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue()), fc.integer({ min: 1, max: 400 }), (values, budget) => {
      // JSON.parse(JSON.stringify()) is what the worker sends: -0 becomes 0, as in the manifests.
      const json = JSON.parse(JSON.stringify(values)) as unknown[];
      assert.deepStrictEqual(roundTrip(json, budget).values, json);
    }), { numRuns: 300 });
  });

  it('splits a map of 150,000 keys into batches of about the budget', () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < 150_000; i++) data[`k${i}`] = 'v'.repeat(14);
    const values = [{ file: 'a.yaml', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data } }];
    const { values: back, batches } = roundTrip(values, 256 * 1024);
    assert.deepStrictEqual(back, values);
    assert.ok(batches.length >= 14, `${batches.length} batches`);
    for (const b of batches) assert.ok(JSON.stringify(b).length < 2 * 256 * 1024 + 100);
  });

  it('keeps small values whole, one batch for many', () => {
    const values = Array.from({ length: 100 }, (_, i) => ({ name: `cm-${i}`, data: { v: 'x' } }));
    const { batches } = roundTrip(values, 256 * 1024);
    assert.equal(batches.length, 1);
    assert.ok(batches[0]!.every((op) => op[0] === 'v'));
  });

  it('a "__proto__" key stays a plain own property', () => {
    const values = [JSON.parse('{"a": {"__proto__": {"polluted": true}, "b": [1, 2, 3]}}') as unknown];
    const back = roundTrip(values, 1).values[0] as { a: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(back.a), Object.prototype);
    assert.deepStrictEqual(Object.keys(back.a), ['__proto__', 'b']);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });

  it('refuses unbalanced batches', () => {
    assert.throws(() => new ValueAssembler().add([['c']]), /not open/);
    const a = new ValueAssembler();
    a.add([['o', null]]);
    assert.throws(() => a.values(), /never closed/);
  });
});

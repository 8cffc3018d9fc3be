// The LIST body splitter: whatever the chunking, it yields exactly the items JSON.parse finds and the rest of the
// list with "items": [], including strings full of brackets, quotes and escapes and keys named "items" below the top.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ListItemSplitter } from '../../../src/kube/list-items.js';

function split(body: Buffer, cuts: number[]): { items: unknown[]; rest: unknown } {
  const items: unknown[] = [];
  const s = new ListItemSplitter((i) => items.push(i));
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) { s.push(body.subarray(at, Math.max(at, c))); at = Math.max(at, c); }
  s.push(body.subarray(at));
  return { items, rest: s.end() };
}

const tricky = fc.constantFrom('items', '"items":[', '{[}]', '\\', '"', ',', ':', 'é', '日本', '\u0000', '\n', '😀', '\\"');
const text = fc.oneof(fc.string(), tricky, fc.array(tricky).map((a) => a.join('')));
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    text, fc.integer(), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(text, fc.constant('items')), tie('value'), { maxKeys: 4 })),
})).value;
const item = fc.record({ metadata: fc.record({ name: text, items: json }), data: fc.dictionary(text, text, { maxKeys: 3 }), items: json });

describe('ListItemSplitter', () => {
  it('finds the same items and rest as JSON.parse, for any chunking (property)', () => {
    fc.assert(fc.property(
      fc.array(item, { maxLength: 6 }), fc.dictionary(fc.constantFrom('kind', 'apiVersion', 'x', 'itemsx', 'item'), json, { maxKeys: 3 }),
      fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom('', ' ', '\n  '),
      (items, extra, itemsFirst, cuts, ws) => {
        const list = itemsFirst ? { items, ...extra, metadata: { resourceVersion: '7', continue: 'x"]}' } } : { ...extra, metadata: { resourceVersion: '7' }, items };
        const body = Buffer.from(JSON.stringify(list, undefined, ws.length ? ws.length : undefined));
        const got = split(body, cuts.map((c) => c % (body.length + 1)));
        const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v)); // fast-check's dictionaries have no prototype
        assert.deepEqual(got.items, plain(items));
        assert.deepEqual(got.rest, plain({ ...list, items: [] }));
      }), { numRuns: 500 });
  });

  it('cuts inside a multi-byte character do not corrupt it', () => {
    const list = { metadata: {}, items: [{ v: 'é日本😀' }, { v: '😀' }] };
    const body = Buffer.from(JSON.stringify(list));
    for (let c = 0; c <= body.length; c++) assert.deepEqual(split(body, [c]).items, list.items);
  });

  it('"items": null (an empty PartialObjectMetadataList) yields no item and parses the rest', () => {
    const got = split(Buffer.from('{"kind":"PartialObjectMetadataList","metadata":{"resourceVersion":"1"},"items":null}'), [10, 50]);
    assert.deepEqual(got.items, []);
    assert.deepEqual(got.rest, { kind: 'PartialObjectMetadataList', metadata: { resourceVersion: '1' }, items: null });
  });

  it('a truncated body is an error, not a short list', () => {
    const body = Buffer.from(JSON.stringify({ metadata: {}, items: [{ a: 1 }, { b: '}]' }] }));
    for (let n = 0; n < body.length; n++) assert.throws(() => split(body.subarray(0, n), []));
  });

  it('an item over the size bound is refused', () => {
    const s = new ListItemSplitter(() => {}, 100);
    assert.throws(() => s.push(Buffer.from(JSON.stringify({ items: [{ big: 'x'.repeat(200) }] }))), /larger than 100 bytes/);
  });

  it('memory: items are handed over one by one (a 10,000-item page never exists as one string)', () => {
    let n = 0;
    const s = new ListItemSplitter((i) => { n++; assert.equal((i as { n: number }).n, n - 1); });
    s.push(Buffer.from('{"metadata":{},"items":['));
    for (let i = 0; i < 10_000; i++) s.push(Buffer.from(`${i ? ',' : ''}{"n":${i},"data":"${'a'.repeat(100)}"}`));
    s.push(Buffer.from(']}'));
    assert.deepEqual(s.end(), { metadata: {}, items: [] });
    assert.equal(n, 10_000);
  });
});

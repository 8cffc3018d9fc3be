// The store's copy of a GitSync (snapshot.ts) and the digest check that lets the quick in-sync path trust it
// (resync.ts covers()): the digest of status.inventory as written (sorted ids) equals the digest of the record's
// ids, for any set of ids; any hostile status.inventory shape gives a digest, never a throw.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inventoryDigest, snapshotOf } from '../../../src/gitsync/snapshot.js';

const id = fc.string({ minLength: 0, maxLength: 40, unit: 'binary' });

describe('GitSync snapshot', () => {
  it('digests status.inventory (sorted, as the syncer writes it) like the sorted ids of a record', () => {
    fc.assert(fc.property(fc.uniqueArray(id, { maxLength: 60 }), (ids) => {
      const written = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((i) => ({ id: i, v: 'v1' }));
      const snap = snapshotOf({ metadata: { name: 'g' }, status: { inventory: written } } as never);
      const record = inventoryDigest([...new Set(ids)].sort());
      assert.deepEqual(snap.inventory, record);
    }));
  });

  it('tells different inventories apart (order, an id more or less, ids joined differently)', () => {
    const d = (ids: string[]) => inventoryDigest(ids).digest;
    assert.notEqual(d(['a', 'b']), d(['b', 'a']));
    assert.notEqual(d(['a', 'b']), d(['a']));
    assert.notEqual(d(['a\nb']), d(['a', 'b']));
    assert.notEqual(d([]), d(['']));
  });

  it('keeps neither the inventory nor managedFields, and does not change the object it was given', () => {
    const obj = { metadata: { name: 'g', managedFields: [{ manager: 'keelson' }], annotations: { a: 'b' } }, spec: { url: 'u' }, status: { inventory: [{ id: 'x', v: 'v1' }], conditions: [] } };
    const before = structuredClone(obj);
    const snap = snapshotOf(obj as never);
    assert.deepEqual(obj, before);
    assert.equal('inventory' in (snap.obj.status ?? {}), false);
    assert.equal('managedFields' in snap.obj.metadata, false);
    assert.deepEqual(snap.obj.metadata.annotations, { a: 'b' });
  });

  it('gives a digest for any status.inventory a hostile writer could store', () => {
    fc.assert(fc.property(fc.anything(), (inventory) => {
      const snap = snapshotOf({ metadata: { name: 'g' }, status: { inventory } } as never);
      assert.equal(typeof snap.inventory.digest, 'string');
      assert.ok(snap.inventory.count >= 0);
    }));
  });
});

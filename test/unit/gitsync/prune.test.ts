import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyRevisionBlocked, inventoryOf, parseInventoryEntry, pruneVerdict, staleEntries } from '../../../src/gitsync/prune.js';
import { finalize, parseFiles } from '../../../src/gitsync/render.js';

const owner = { namespace: 'flux', name: 'app' };
const ownedLabels = { 'gitsync.keelson.dev/name': 'app', 'gitsync.keelson.dev/namespace': 'flux' };

describe('prune', () => {
  it('inventory is sorted ids with versions', () => {
    const objs = finalize(parseFiles([{ path: 'a.yaml', content: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: z}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' }]),
      { targetNamespace: 'apps', defaultNamespace: 'flux', owner, scope: () => true });
    assert.deepEqual(inventoryOf(objs), [{ id: 'apps_a__ConfigMap', v: 'v1' }, { id: 'apps_z_apps_Deployment', v: 'v1' }]);
  });
  it('parses entries back, and ignores malformed ones', () => {
    assert.deepEqual(parseInventoryEntry({ id: 'apps_z_apps_Deployment', v: 'v1' }), { id: 'apps_z_apps_Deployment', namespace: 'apps', name: 'z', group: 'apps', kind: 'Deployment', version: 'v1' });
    assert.deepEqual(parseInventoryEntry({ id: '_ns1__Namespace', v: 'v1' }), { id: '_ns1__Namespace', namespace: undefined, name: 'ns1', group: '', kind: 'Namespace', version: 'v1' });
    assert.equal(parseInventoryEntry({ id: 'a_b_c', v: 'v1' }), undefined);
    assert.equal(parseInventoryEntry({ id: 'a__c_Kind', v: 'v1' }), undefined);
    assert.equal(parseInventoryEntry({ id: 'a_b_c_K' } as never), undefined);
  });
  it('stale entries are those that left Git', () => {
    const prev = [{ id: 'apps_a__ConfigMap', v: 'v1' }, { id: 'apps_b__ConfigMap', v: 'v1' }, { id: 'bad', v: 'v1' }];
    assert.deepEqual(staleEntries(prev, [{ id: 'apps_a__ConfigMap', v: 'v1' }]).map((r) => r.id), ['apps_b__ConfigMap']);
    assert.deepEqual(staleEntries(undefined, []), []);
  });
  it('deletes only live objects that carry this GitSync\'s labels and are not protected', () => {
    const obj = (labels: Record<string, string>, annotations: Record<string, string> = {}, deletionTimestamp?: string) => ({ metadata: { name: 'x', labels, annotations, deletionTimestamp } });
    assert.equal(pruneVerdict(undefined, owner), 'gone');
    assert.equal(pruneVerdict(obj(ownedLabels, {}, '2024-01-01T00:00:00Z'), owner), 'gone');
    assert.equal(pruneVerdict(obj(ownedLabels), owner), 'delete');
    assert.equal(pruneVerdict(obj(ownedLabels, { 'keelson.dev/prune': 'disabled' }), owner), 'protected');
    assert.equal(pruneVerdict(obj({}), owner), 'not-owned');
    assert.equal(pruneVerdict(obj({ ...ownedLabels, 'gitsync.keelson.dev/name': 'other' }), owner), 'not-owned');
    assert.equal(pruneVerdict(obj({ ...ownedLabels, 'gitsync.keelson.dev/namespace': 'other' }), owner), 'not-owned');
  });
  it('the allow-empty guard blocks only prune-everything', () => {
    const inv = [{ id: 'apps_a__ConfigMap', v: 'v1' }];
    assert.equal(emptyRevisionBlocked(0, inv, true, false), true);
    assert.equal(emptyRevisionBlocked(0, inv, true, true), false);
    assert.equal(emptyRevisionBlocked(0, inv, false, false), false);
    assert.equal(emptyRevisionBlocked(1, inv, true, false), false);
    assert.equal(emptyRevisionBlocked(0, [], true, false), false);
    assert.equal(emptyRevisionBlocked(0, undefined, true, false), false);
  });
});

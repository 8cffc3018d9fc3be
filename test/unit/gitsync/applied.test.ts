import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlanItem } from '../../../src/gitsync/apply.js';
import { type AppliedRecord, type LiveVersions, fingerprintOf, nextRecord, objectDigest, planShortcuts, restoreRecord } from '../../../src/gitsync/applied.js';
import { type DesiredObject, finalize, parseFiles } from '../../../src/gitsync/render.js';

const owner = { namespace: 'flux', name: 'app' };
const cm = (name: string, v: string, ns = 'apps') => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {v: "${v}"}\n`;
const render = (docs: string[]): DesiredObject[] => finalize(parseFiles([{ path: 'a.yaml', content: docs.join('---\n') }]), { targetNamespace: undefined, defaultNamespace: 'flux', owner, scope: () => true });
const digestsOf = (objs: readonly DesiredObject[]) => new Map(objs.map((o) => [o.id, objectDigest(o)]));
const live = (versions: Record<string, string>, listed: (o: DesiredObject) => boolean = () => true): LiveVersions => ({ versions: new Map(Object.entries(versions)), listed });
const basis = { generation: 1, identity: 'ServiceAccount flux/gitsync' };
const record = (entries: Record<string, { rv: string; digest: string }>): AppliedRecord => ({ ...basis, entries: new Map(Object.entries(entries)) });

describe('applied record', () => {
  const objs = render([cm('a', '1'), cm('b', '1'), cm('c', '1'), cm('d', '1')]);
  const [a, b, c, d] = objs.map((o) => o.id) as [string, string, string, string];
  const digests = digestsOf(objs);

  it('skips exactly the objects recorded with the same content and listed at the recorded resourceVersion', () => {
    const rec = record({ [a]: { rv: '10', digest: digests.get(a)! }, [b]: { rv: '11', digest: digests.get(b)! }, [c]: { rv: '12', digest: 'other content' } });
    // a: unchanged; b: moved (edited by hand); c: Git changed it; d: never recorded.
    const s = planShortcuts(objs, digests, rec, live({ [a]: '10', [b]: '15', [c]: '12', [d]: '13' }));
    assert.deepEqual([...s.unchanged], [a]);
    assert.deepEqual([...s.expected], []);
  });

  it('plans an object missing from a successful LIST (deleted, or its owner labels removed by hand)', () => {
    const rec = record({ [a]: { rv: '10', digest: digests.get(a)! } });
    assert.deepEqual([...planShortcuts(objs, digests, rec, live({})).unchanged], []);
  });

  it('leaves objects whose kind or namespace could not be listed to a GET against the recorded resourceVersion', () => {
    const rec = record({ [a]: { rv: '10', digest: digests.get(a)! }, [b]: { rv: '11', digest: 'old' } });
    const s = planShortcuts(objs, digests, rec, live({}, () => false));
    assert.deepEqual([...s.unchanged], []);
    assert.deepEqual([...s.expected], [[a, '10']]);
  });

  it('the digest covers every field: content, labels, namespace', () => {
    const [x] = render([cm('a', '1')]);
    const [y] = render([cm('a', '2')]);
    const [z] = render([cm('a', '1', 'other')]);
    assert.notEqual(objectDigest(x!), objectDigest(y!));
    assert.notEqual(objectDigest(x!), objectDigest(z!));
    assert.equal(objectDigest(x!), objectDigest(render([cm('a', '1')])[0]!));
  });

  it('records the written resourceVersion, else the one the plan read, else the recorded one it skipped on', () => {
    const item = (o: DesiredObject, action: PlanItem['action'], extra: Partial<PlanItem> = {}): PlanItem => ({ desired: o, stage: 'rest', action, live: undefined, dryRun: undefined, ...extra });
    const prev = record({ [c]: { rv: '30', digest: digests.get(c)! } });
    const plan = [
      item(objs[0]!, 'update', { live: { metadata: { name: 'a', resourceVersion: '5' } } }),
      item(objs[1]!, 'unchanged', { live: { metadata: { name: 'b', resourceVersion: '21' } } }),
      item(objs[2]!, 'unchanged', { shortcut: 'listed' }),
      item(objs[3]!, 'deferred'),
    ];
    const next = nextRecord(plan, new Map([[a, '40']]), digests, prev, basis);
    assert.deepEqual([...next.entries].map(([id, e]) => [id, e.rv]), [[a, '40'], [b, '21'], [c, '30']]);
    // A record for another generation is not carried over.
    const other = nextRecord(plan, new Map(), digests, prev, { ...basis, generation: 2 });
    assert.deepEqual([...other.entries].map(([id]) => id), [b]);
  });

  it('a fingerprint restores the record only when every object is at its recorded resourceVersion', () => {
    const fpBasis = { ...basis, revision: 'main@sha1:abc', renderer: '0.2.0' };
    const versions: Record<string, string> = { [a]: '1', [b]: '2', [c]: '3', [d]: '4' };
    const stored = fingerprintOf(fpBasis, Object.entries(versions));
    const restored = restoreRecord(objs, digests, live(versions), stored, fpBasis);
    assert.deepEqual(restored && [...restored.entries].map(([id, e]) => [id, e.rv, e.digest === digests.get(id)]), Object.entries(versions).map(([id, rv]) => [id, rv, true]));
    assert.equal(restoreRecord(objs, digests, live({ ...versions, [b]: '9' }), stored, fpBasis), undefined, 'b moved');
    assert.equal(restoreRecord(objs, digests, live({ [a]: '1', [b]: '2', [c]: '3' }), stored, fpBasis), undefined, 'd is missing');
    for (const change of [{ revision: 'main@sha1:def' }, { generation: 2 }, { identity: 'Keelson' }, { renderer: '0.3.0' }]) {
      assert.equal(restoreRecord(objs, digests, live(versions), stored, { ...fpBasis, ...change }), undefined, JSON.stringify(change));
    }
    assert.equal(restoreRecord(objs, digests, live(versions), undefined, fpBasis), undefined);
    assert.match(stored, /^v1:[A-Za-z0-9_-]{43}$/, 'a fixed, small size whatever the number of objects');
  });

  it('property: an object is skipped iff recorded with its digest and listed at that resourceVersion', () => {
    const rvs = fc.constantFrom('1', '2', '3');
    fc.assert(fc.property(
      fc.array(fc.record({ recorded: fc.boolean(), sameDigest: fc.boolean(), rv: rvs, listed: fc.boolean(), present: fc.boolean(), liveRv: rvs }), { minLength: 4, maxLength: 4 }),
      (cases) => {
        const entries: Record<string, { rv: string; digest: string }> = {};
        const versions: Record<string, string> = {};
        const listedIds = new Set<string>();
        cases.forEach((k, i) => {
          const o = objs[i]!;
          if (k.recorded) entries[o.id] = { rv: k.rv, digest: k.sameDigest ? digests.get(o.id)! : 'x' };
          if (k.present) versions[o.id] = k.liveRv;
          if (k.listed) listedIds.add(o.id);
        });
        const s = planShortcuts(objs, digests, record(entries), live(versions, (o) => listedIds.has(o.id)));
        cases.forEach((k, i) => {
          const id = objs[i]!.id;
          assert.equal(s.unchanged.has(id), k.recorded && k.sameDigest && k.listed && k.present && k.liveRv === k.rv);
          assert.equal(s.expected.has(id), k.recorded && k.sameDigest && !k.listed);
        });
      },
    ));
  });
});

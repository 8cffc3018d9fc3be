import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlanItem } from '../../../src/gitsync/apply.js';
import { type AppliedRecord, type ListTarget, type LiveVersions, fingerprintOf, nextRecord, nothingMoved, objectDigest, objectDigests, planShortcuts, restoreRecord, targetsOf } from '../../../src/gitsync/applied.js';
import { type DesiredObject, finalize, parseFiles } from '../../../src/gitsync/render.js';

const owner = { namespace: 'flux', name: 'app' };
const cm = (name: string, v: string, ns = 'apps') => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {v: "${v}"}\n`;
const render = (docs: string[]): DesiredObject[] => finalize(parseFiles([{ path: 'a.yaml', content: docs.join('---\n') }]), { targetNamespace: undefined, defaultNamespace: 'flux', owner, scope: () => true });
const digestsOf = (objs: readonly DesiredObject[]) => new Map(objs.map((o) => [o.id, objectDigest(o)]));
const live = (versions: Record<string, string>, listed: (t: ListTarget) => boolean = () => true): LiveVersions => ({ versions: new Map(Object.entries(versions)), listed });
const basis = { revision: 'main@sha1:abc', generation: 1, identity: 'ServiceAccount flux/gitsync' };
const record = (entries: Record<string, { rv: string; digest: string }>, targets: ListTarget[] = []): AppliedRecord => ({ ...basis, entries: new Map(Object.entries(entries)), targets });

describe('applied record', () => {
  // One namespace each, so that each can be listed or not on its own.
  const objs = render([cm('a', '1', 'n1'), cm('b', '1', 'n2'), cm('c', '1', 'n3'), cm('d', '1', 'n4')]);
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

  it('objectDigests gives every object its objectDigest, over several event-loop turns for a big revision', async () => {
    const objs = render(Array.from({ length: 300 }, (_, i) => cm(`c${i}`, 'x'.repeat(5000))));
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      assert.deepEqual(await objectDigests(objs), digestsOf(objs));
    } finally {
      clearInterval(ticker);
    }
    assert.ok(turns > 0, 'timers ran while 1.5 MiB was hashed');
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

  it('nothing moved: every kind and namespace listed, every recorded object at its resourceVersion', () => {
    const rec = record({ [a]: { rv: '1', digest: 'x' }, [b]: { rv: '2', digest: 'y' } }, targetsOf(objs.slice(0, 2)));
    assert.deepEqual(rec.targets.map((t) => [t.kind, t.namespace]), [['ConfigMap', 'n1'], ['ConfigMap', 'n2']]);
    assert.equal(nothingMoved(rec, live({ [a]: '1', [b]: '2', [c]: '7' })), true, 'other objects with the labels do not count');
    assert.equal(nothingMoved(rec, live({ [a]: '1', [b]: '3' })), false, 'b moved');
    assert.equal(nothingMoved(rec, live({ [a]: '1' })), false, 'b is gone');
    assert.equal(nothingMoved(rec, live({ [a]: '1', [b]: '2' }, (t) => t.namespace === 'n1')), false, 'n2 could not be listed');
    assert.equal(nothingMoved(record({}, []), live({})), true, 'an empty revision');
  });

  it('a fingerprint restores the record only when every object is at its recorded resourceVersion', () => {
    const fpBasis = { ...basis, renderer: '0.2.0' };
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
        const listedNs = new Set<string | undefined>();
        cases.forEach((k, i) => {
          const o = objs[i]!;
          if (k.recorded) entries[o.id] = { rv: k.rv, digest: k.sameDigest ? digests.get(o.id)! : 'x' };
          if (k.present) versions[o.id] = k.liveRv;
          if (k.listed) listedNs.add(o.object.metadata.namespace);
        });
        const s = planShortcuts(objs, digests, record(entries), live(versions, (t) => listedNs.has(t.namespace)));
        cases.forEach((k, i) => {
          const id = objs[i]!.id;
          assert.equal(s.unchanged.has(id), k.recorded && k.sameDigest && k.listed && k.present && k.liveRv === k.rv);
          assert.equal(s.expected.has(id), k.recorded && k.sameDigest && !k.listed);
        });
      },
    ));
  });
});

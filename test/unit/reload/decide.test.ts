import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DecideInput, type Observed, type TriggerState, decide, formatObserved, nextObserved, parseObserved } from '../../../src/reload/decide.js';
import { PLAIN_FORM, keyedForm } from '../../../src/reload/digest.js';

/** The production path: baselines keyed under a cluster key. */
const KEYED = keyedForm(Buffer.alloc(32, 7));

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const trig = (name: string, digest: string | undefined, named = false, kind: 'ConfigMap' | 'Secret' = 'ConfigMap'): TriggerState =>
  ({ id: `${kind}/${name}`, kind, namespace: 'ns', name, digest, named });
const base = (triggers: TriggerState[], sel = 's1'): Observed => nextObserved(sel, triggers, KEYED);
const input = (over: Partial<DecideInput>): DecideInput => ({ active: true, selection: 's1', observed: undefined, triggers: [], reloadOnCreate: false, reloadOnDelete: false, form: KEYED, ...over });

describe('decide', () => {
  it('records a baseline on first sight, without a roll', () => {
    const d = decide(input({ triggers: [trig('app', D1)] }));
    assert.equal(d.action, 'record');
    assert.equal(d.action === 'record' && d.why, 'first-sight');
  });

  it('does nothing on first sight with no triggers (no write for every unreferencing workload)', () => {
    assert.deepEqual(decide(input({ triggers: [] })), { action: 'none' });
  });

  it('does nothing when nothing changed (restart, relist, duplicate event)', () => {
    const t = [trig('app', D1), trig('creds', D2, false, 'Secret')];
    assert.deepEqual(decide(input({ observed: base(t), triggers: t })), { action: 'none' });
    assert.deepEqual(decide(input({ observed: parseObserved(formatObserved(base(t))), triggers: [...t].reverse() })), { action: 'none' });
  });

  it('rolls once per content change, naming the cause', () => {
    const d = decide(input({ observed: base([trig('app', D1)]), triggers: [trig('app', D2)] }));
    assert.equal(d.action, 'roll');
    if (d.action !== 'roll') return;
    assert.deepEqual(d.causes, [{ id: 'ConfigMap/app', change: 'changed' }]);
    assert.notEqual(d.observed.hash, d.previousHash);
    // After the roll is written the new baseline is what is read back: nothing more to do.
    assert.deepEqual(decide(input({ observed: d.observed, triggers: [trig('app', D2)] })), { action: 'none' });
  });

  it('reports every changed trigger of a coalesced burst', () => {
    const d = decide(input({ observed: base([trig('a', D1), trig('b', D1)]), triggers: [trig('a', D2), trig('b', D2)] }));
    assert.equal(d.action === 'roll' && d.causes.length, 2);
  });

  it('deletion: rolls only with --reload-on-delete, otherwise updates the baseline', () => {
    const observed = base([trig('app', D1)]);
    const gone = [trig('app', undefined)];
    const d = decide(input({ observed, triggers: gone }));
    assert.equal(d.action, 'record');
    const r = decide(input({ observed, triggers: gone, reloadOnDelete: true }));
    assert.equal(r.action === 'roll' && r.causes[0]!.change, 'deleted');
  });

  it('creation of a tracked missing config: rolls only with --reload-on-create', () => {
    const observed = base([trig('app', undefined, true)]);
    assert.equal(observed.configs['ConfigMap/app'], '-');
    const now = [trig('app', D1, true)];
    assert.equal(decide(input({ observed, triggers: now })).action, 'record');
    const r = decide(input({ observed, triggers: now, reloadOnCreate: true }));
    assert.equal(r.action === 'roll' && r.causes[0]!.change, 'created');
  });

  it('created and then changed before the baseline caught up (one debounce window): rolls once as a change, with or without --reload-on-create', () => {
    // The pipeline flake: a Deployment seen before its Secret was unsealed (baseline "-"), the Secret created with a
    // first value and updated to a second one before the debounced reconcile ran. Without the noted change, the
    // baseline moved to the second value without a roll and pods kept the first.
    const observed = base([trig('db', undefined, false, 'Secret')]);
    const changed: TriggerState = { ...trig('db', D2, false, 'Secret'), changedSinceCreated: true };
    for (const reloadOnCreate of [false, true]) {
      const d = decide(input({ observed, triggers: [changed], reloadOnCreate }));
      assert.equal(d.action, 'roll');
      assert.deepEqual(d.action === 'roll' && d.causes, [{ id: 'Secret/db', change: 'changed' }]);
      // The roll's baseline holds the second value: deciding again (a duplicate, a restart) does nothing.
      assert.deepEqual(decide(input({ observed: d.action === 'roll' ? d.observed : undefined, triggers: [changed], reloadOnCreate })), { action: 'none' });
    }
    // Only created (no change seen since): a creation, as before.
    assert.equal(decide(input({ observed, triggers: [trig('db', D2, false, 'Secret')] })).action, 'record');
    // The flag means nothing once the baseline holds a content: equal content is no change.
    assert.deepEqual(decide(input({ observed: base([trig('db', D2, false, 'Secret')]), triggers: [changed] })), { action: 'none' });
    // Created, changed, then deleted before the reconcile: absent both times, nothing to roll.
    assert.deepEqual(decide(input({ observed, triggers: [{ ...trig('db', undefined, false, 'Secret'), changedSinceCreated: true }] })), { action: 'none' });
  });

  it('a config newly matching an unchanged named pattern counts as created; a new reference or a changed list does not', () => {
    const observed = base([trig('a', D1, true)]);
    const withNew = [trig('a', D1, true), trig('b', D1, true)];
    assert.equal(decide(input({ observed, triggers: withNew, reloadOnCreate: true })).action, 'roll');
    assert.equal(decide(input({ observed, triggers: withNew, reloadOnCreate: true, selection: 's2' })).action, 'record');
    assert.equal(decide(input({ observed, triggers: [trig('a', D1, true), trig('b', D1, false)], reloadOnCreate: true })).action, 'record');
    assert.equal(decide(input({ observed, triggers: withNew })).action, 'record');
  });

  it('a trigger that stops being one (ignored, excluded, unreferenced) only updates the baseline', () => {
    const d = decide(input({ observed: base([trig('a', D1), trig('b', D1)]), triggers: [trig('a', D1)] }));
    assert.equal(d.action, 'record');
    assert.deepEqual(d.action === 'record' && Object.keys(d.observed.configs), ['ConfigMap/a']);
  });

  it('a workload no longer annotated forgets its baseline; one never annotated needs nothing', () => {
    assert.deepEqual(decide(input({ active: false, observed: base([trig('a', D1)]) })), { action: 'forget' });
    assert.deepEqual(decide(input({ active: false })), { action: 'none' });
  });

  it('a change back to the recorded content is no change', () => {
    const observed = base([trig('a', D1)]);
    assert.deepEqual(decide(input({ observed, triggers: [trig('a', D1)] })), { action: 'none' });
  });
});

describe('decide: a config deleted and re-created (--reload-on-delete off)', () => {
  const D3 = 'c'.repeat(64);
  const other = trig('other', D1, false, 'Secret');
  const app = (digest: string | undefined, changedSinceCreated = false): TriggerState => ({ ...trig('app', digest), changedSinceCreated });
  const held = (o: Observed) => o.configs['ConfigMap/app'];
  const recorded = (d: ReturnType<typeof decide>): Observed => {
    assert.ok(d.action === 'record' || d.action === 'roll', `expected a write, got ${d.action}`);
    return d.observed;
  };

  it('a change pending when its config was deleted rolls once when it is re-created with that content (issue 18)', () => {
    // Baseline A; the change to B waits in its debounce window (or on a replica that was then killed); the config is
    // deleted: the baseline keeps A as the content the pods hold. Re-created with B: one roll; then nothing.
    const gone = recorded(decide(input({ observed: base([app(D1), other]), triggers: [app(undefined), other] })));
    assert.equal(held(gone), `-${base([app(D1)]).configs['ConfigMap/app']}`);
    assert.equal(gone.hash, base([other]).hash, 'the config hash covers present configs only');
    assert.deepEqual(decide(input({ observed: gone, triggers: [app(undefined), other] })), { action: 'none' }, 'still absent: settled');
    const d = decide(input({ observed: gone, triggers: [app(D2), other] }));
    assert.equal(d.action, 'roll');
    assert.deepEqual(d.action === 'roll' && d.causes, [{ id: 'ConfigMap/app', change: 'changed' }]);
    assert.deepEqual(d.action === 'roll' && d.observed, base([app(D2), other]));
    assert.deepEqual(decide(input({ observed: recorded(d), triggers: [app(D2), other] })), { action: 'none' });
  });

  it('an identical re-creation does not roll, and moves the baseline back to the content', () => {
    const gone = recorded(decide(input({ observed: base([app(D1), other]), triggers: [app(undefined), other] })));
    const d = decide(input({ observed: gone, triggers: [app(D1), other] }));
    assert.equal(d.action === 'record' && d.why, 'baseline-update');
    assert.deepEqual(recorded(d), base([app(D1), other]));
    // A change noted before the deletion says nothing about the re-created content: the held digest decides.
    assert.equal(decide(input({ observed: gone, triggers: [app(D1, true), other] })).action, 'record');
  });

  it('--reload-on-create: any re-creation rolls once; other content is named a change', () => {
    const gone = recorded(decide(input({ observed: base([app(D1)]), triggers: [app(undefined)], reloadOnCreate: true })));
    const same = decide(input({ observed: gone, triggers: [app(D1)], reloadOnCreate: true }));
    assert.deepEqual(same.action === 'roll' && same.causes, [{ id: 'ConfigMap/app', change: 'created' }]);
    const differs = decide(input({ observed: gone, triggers: [app(D2)], reloadOnCreate: true }));
    assert.deepEqual(differs.action === 'roll' && differs.causes, [{ id: 'ConfigMap/app', change: 'changed' }]);
  });

  it('--reload-on-delete: the deletion rolls and holds nothing, so the re-creation follows the plain "-" rules', () => {
    const d = decide(input({ observed: base([app(D1)]), triggers: [app(undefined)], reloadOnDelete: true }));
    assert.equal(d.action, 'roll');
    const gone = recorded(d);
    assert.equal(held(gone), '-');
    assert.equal(decide(input({ observed: gone, triggers: [app(D2)], reloadOnDelete: true })).action, 'record');
    assert.equal(decide(input({ observed: gone, triggers: [app(D2)], reloadOnDelete: true, reloadOnCreate: true })).action, 'roll');
  });

  it('a roll while the config is absent (another trigger changed) holds nothing: the new pods mount what is created', () => {
    const gone = recorded(decide(input({ observed: base([app(D1), other]), triggers: [app(undefined), other] })));
    const d = decide(input({ observed: gone, triggers: [app(undefined), { ...other, digest: D3 }] }));
    assert.equal(d.action, 'roll');
    assert.equal(held(recorded(d)), '-');
    assert.equal(decide(input({ observed: recorded(d), triggers: [app(D2), { ...other, digest: D3 }] })).action, 'record');
  });

  it('a key change while the config is absent forgets the held digest (it cannot be translated)', () => {
    const K2 = keyedForm(Buffer.alloc(32, 9));
    const gone = recorded(decide(input({ observed: base([app(D1)]), triggers: [app(undefined)] })));
    const d = decide(input({ form: K2, earlierForms: [KEYED], observed: gone, triggers: [app(undefined)] }));
    assert.equal(d.action === 'record' && d.why, 'key-change');
    assert.equal(held(recorded(d)), '-');
  });

  it('model check: over any sequence of changes, deletions, re-creations and decisions, no roll is lost or extra', async () => {
    // One config "app" that may be deleted and re-created, one "other" that only changes; decide() runs at random
    // points (debounce windows, a replica down). The model tracks what the pods hold: a roll gives them the current
    // contents, and while "app" is absent at a roll they mount whatever is created next. The change notes follow
    // the reconciler: set by an update, cleared by a deletion and by a written baseline that holds the content.
    // The one case no baseline can tell apart (`blind`): after a roll made while "app" was absent, the pods mount
    // it at its first creation; if its content then differs before a decision saw it (a deletion and re-creation
    // with other content, or an update on a replica that did not see it: notes live in one replica's memory), the
    // baseline "-" never saw what the pods mounted: until the next roll, a roll may be lost or (content going back to
    // what the pods mounted) extra. Documented in decide.ts. (Seed -291460772 found the extra case.)
    const fc = (await import('fast-check')).default;
    const DIGESTS = [D1, D2, D3];
    const op = fc.oneof(
      fc.record({ t: fc.constant('app' as const), v: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ t: fc.constant('other' as const), v: fc.integer({ min: 0, max: 2 }) }),
      fc.constant({ t: 'delete' as const }), fc.constant({ t: 'decide' as const }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), fc.boolean(), (ops, keepNotes) => {
      let app: number | undefined = 0;
      let oth = 0;
      let podsApp = 0 as number | 'next';
      let podsOther = 0;
      let note = false;
      let unseenCreation = false;
      let blind = false;
      let observed = base([trig('app', D1), trig('other', D1, false, 'Secret')]);
      const run = () => {
        const triggers = [{ ...trig('app', app === undefined ? undefined : DIGESTS[app]), changedSinceCreated: note }, trig('other', DIGESTS[oth], false, 'Secret')];
        const d = decide(input({ observed, triggers }));
        if (d.action === 'roll') {
          const justified = (app !== undefined && app !== podsApp) || oth !== podsOther || (note && podsApp !== 'next');
          assert.ok(justified || blind, `extra roll: pods hold ${String(podsApp)}/${podsOther}, contents ${String(app)}/${oth}`);
          podsApp = app ?? 'next';
          podsOther = oth;
          blind = false;
        }
        if (app !== undefined) unseenCreation = false;
        if (d.action === 'roll' || d.action === 'record') {
          observed = d.observed;
          if (app !== undefined) note = false;
        }
      };
      for (const o of ops) {
        if (o.t === 'decide') run();
        else if (o.t === 'delete') { app = undefined; note = false; }
        else if (o.t === 'other') oth = o.v;
        else {
          if (app === undefined) {
            if (podsApp === 'next') { podsApp = o.v; unseenCreation = true; }
            else if (unseenCreation && podsApp !== o.v) blind = true;
          }
          else if (app !== o.v) { note = keepNotes; if (unseenCreation && !keepNotes) blind = true; }
          app = o.v;
        }
      }
      run();
      run();
      assert.equal(podsOther, oth, 'lost roll of other');
      if (app !== undefined && !blind) assert.equal(podsApp, app, 'lost roll of app');
    }), { numRuns: 3000 });
  });
});

describe('observed annotation', () => {
  it('round-trips and serialises canonically', () => {
    const o = base([trig('b', D2), trig('a', D1)]);
    const text = formatObserved(o);
    assert.deepEqual(parseObserved(text), JSON.parse(text));
    assert.equal(text, formatObserved(base([trig('a', D1), trig('b', D2)])));
    assert.ok(text.length < 200, 'short digests keep the annotation small');
  });

  it('rejects garbage (treated as first sight)', () => {
    for (const t of [undefined, '', 'nope', '{}', '{"v":2,"sel":"","hash":"","configs":{}}', '{"v":1,"sel":"","hash":"","configs":{"a":1}}']) {
      assert.equal(parseObserved(t), undefined, String(t));
    }
  });

  it('the hash covers present configs only, and changes with content', () => {
    assert.equal(base([trig('a', D1), trig('x', undefined)]).hash, base([trig('a', D1)]).hash);
    assert.notEqual(base([trig('a', D1)]).hash, base([trig('a', D2)]).hash);
  });
});

describe('decide: keyed digests, the upgrade from plain ones and key changes', () => {
  const K2 = keyedForm(Buffer.alloc(32, 9));
  const t1 = [trig('app', D1), trig('creds', D2, false, 'Secret'), trig('gone', undefined, true)];
  const plain = (triggers: TriggerState[]): Observed => nextObserved('s1', triggers, PLAIN_FORM);

  it('publishes no plain digest: the keyed baseline holds none of the plain values, and names its key', () => {
    const o = base(t1);
    assert.equal(o.v, 2);
    assert.equal(o.kid, KEYED.kid);
    assert.match(o.hash, /^h1:[0-9a-f]{64}$/);
    const p = plain(t1);
    assert.notEqual(o.hash.slice(3), p.hash);
    for (const id of ['ConfigMap/app', 'Secret/creds']) assert.notEqual(o.configs[id], p.configs[id]);
    assert.equal(o.configs['ConfigMap/gone'], '-');
    assert.equal(nextObserved('s1', t1, K2).hash === o.hash, false, 'another key, another digest');
    assert.deepEqual(parseObserved(formatObserved(o)), o);
  });

  it('an old (plain, v1) baseline of unchanged content is re-recorded keyed without a roll', () => {
    const old = parseObserved(formatObserved(plain(t1)))!;
    assert.equal(old.v, 1);
    const d = decide(input({ observed: old, triggers: t1 }));
    assert.equal(d.action, 'record');
    assert.equal(d.action === 'record' && d.why, 'upgrade');
    assert.deepEqual(d.action === 'record' && d.observed, base(t1));
    assert.deepEqual(decide(input({ observed: base(t1), triggers: t1 })), { action: 'none' }, 'and then it is settled');
  });

  it('an old baseline with content changed since rolls exactly once, recording the keyed baseline', () => {
    const changed = [trig('app', D2), trig('creds', D2, false, 'Secret'), trig('gone', undefined, true)];
    const d = decide(input({ observed: plain(t1), triggers: changed }));
    assert.equal(d.action, 'roll');
    if (d.action !== 'roll') return;
    assert.deepEqual(d.causes, [{ id: 'ConfigMap/app', change: 'changed' }]);
    assert.deepEqual(d.observed, base(changed));
    assert.deepEqual(decide(input({ observed: d.observed, triggers: changed })), { action: 'none' });
  });

  it('a baseline under an earlier key still known is compared under that key, then moved without a roll', () => {
    const d = decide(input({ form: K2, earlierForms: [KEYED], observed: base(t1), triggers: t1 }));
    assert.equal(d.action === 'record' && d.why, 'key-change');
    assert.equal(d.action === 'record' && d.observed.kid, K2.kid);
    const changed = [trig('app', D2), ...t1.slice(1)];
    const r = decide(input({ form: K2, earlierForms: [KEYED], observed: base(t1), triggers: changed }));
    assert.equal(r.action, 'roll', 'a real change during a key rotation still rolls');
  });

  it('a baseline under a key no longer known is re-recorded without a roll (never a cluster-wide restart)', () => {
    const changed = [trig('app', D2), ...t1.slice(1)];
    for (const triggers of [t1, changed]) {
      const d = decide(input({ form: K2, observed: base(t1), triggers }));
      assert.equal(d.action === 'record' && d.why, 'unknown-key');
    }
  });

  it('rejects a v2 baseline without a key id and any unknown version', () => {
    assert.equal(parseObserved(JSON.stringify({ v: 2, sel: 's', hash: 'h1:x', configs: {} })), undefined);
    assert.equal(parseObserved(JSON.stringify({ v: 3, kid: 'k', sel: 's', hash: 'x', configs: {} })), undefined);
  });
});

describe('decide: properties (the baseline annotation is writable by anyone who may edit the workload)', () => {
  it('parseObserved never throws, and decide never throws nor rolls on a baseline that does not parse', async () => {
    const fc = (await import('fast-check')).default;
    const t = [trig('app', D1)];
    const observedText = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.record({ v: fc.constantFrom(1, 2, 3, '1'), kid: fc.option(fc.string({ maxLength: 20 })), sel: fc.string({ maxLength: 10 }), hash: fc.string({ maxLength: 70 }),
        configs: fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer())) }).map((o) => JSON.stringify(o)),
    );
    fc.assert(fc.property(observedText, (text) => {
      const o = parseObserved(text);
      const d = decide(input({ observed: o, triggers: t }));
      if (!o) assert.notEqual(d.action, 'roll');
    }), { numRuns: 500 });
  });
});

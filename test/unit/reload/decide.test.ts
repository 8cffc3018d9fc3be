import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DecideInput, type Observed, type TriggerState, decide, formatObserved, nextObserved, parseObserved } from '../../../src/reload/decide.js';

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const trig = (name: string, digest: string | undefined, named = false, kind: 'ConfigMap' | 'Secret' = 'ConfigMap'): TriggerState =>
  ({ id: `${kind}/${name}`, kind, namespace: 'ns', name, digest, named });
const base = (triggers: TriggerState[], sel = 's1'): Observed => nextObserved(sel, triggers);
const input = (over: Partial<DecideInput>): DecideInput => ({ active: true, selection: 's1', observed: undefined, triggers: [], reloadOnCreate: false, reloadOnDelete: false, ...over });

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

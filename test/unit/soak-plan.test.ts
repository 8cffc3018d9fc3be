// The chaos soak's schedule and oracle (bench/support/soak-plan.ts): a seed replays exactly, every fault kind is
// planned equally often, and the coalescing and judging rules on hand-made timelines and random ones.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ABSENT, type AppliedChange, type ChangeStep, FAULT_KINDS, calmSpan, expectedRolls, judge, makeSchedule, stateKey,
} from '../../bench/support/soak-plan.js';

const step = (op: ChangeStep['op'], target: ChangeStep['target'], version: number): ChangeStep => ({ at: 0, workload: 0, op, target, version, gapMs: 0 });
const at = (doneAt: number, s: ChangeStep): AppliedChange => ({ step: s, doneAt });

describe('soak schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = makeSchedule({ seed: 7, workloads: 10, durationMs: 120_000, faults: 12 });
    assert.deepEqual(makeSchedule({ seed: 7, workloads: 10, durationMs: 120_000, faults: 12 }), a);
    assert.notDeepEqual(makeSchedule({ seed: 8, workloads: 10, durationMs: 120_000, faults: 12 }), a);
  });

  it('plans each fault kind equally often, in time order, inside the run', () => {
    const s = makeSchedule({ seed: 3, workloads: 4, durationMs: 900_000, faults: 120 });
    for (const k of FAULT_KINDS) assert.equal(s.faults.filter((f) => f.kind === k).length, 20);
    for (let i = 1; i < s.faults.length; i++) assert.ok(s.faults[i]!.at >= s.faults[i - 1]!.at);
    assert.ok(s.faults.every((f) => f.at > 0 && f.at < 900_000));
  });

  it('keeps content versions increasing per config and bursts apart by the burst gap', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      const s = makeSchedule({ seed, workloads: 5, durationMs: 180_000, faults: 6 });
      for (let w = 0; w < 5; w++) {
        const mine = s.changes.filter((c) => c.workload === w);
        const last = { ConfigMap: 0, Secret: 0 };
        for (const c of mine) {
          if (c.op === 'content') assert.equal(c.version, last[c.target] + 1);
          else assert.equal(c.version, last[c.target]);
          last[c.target] = c.version;
        }
        for (let i = 1; i < mine.length; i++) {
          const gap = mine[i]!.at - mine[i - 1]!.at;
          assert.ok(gap <= 250 || gap >= s.burstGapMs, `gap ${gap}`);
        }
      }
    }), { numRuns: 50 });
  });
});

describe('soak oracle', () => {
  it('calmSpan is the longest stretch no outage covers', () => {
    assert.equal(calmSpan(0, 10, []), 10);
    assert.equal(calmSpan(0, 10, [[2, 4]]), 6);
    assert.equal(calmSpan(0, 10, [[-5, 3], [4, 9]]), 1);
    assert.equal(calmSpan(0, 10, [[-5, 20]]), 0);
  });

  it('expects the final content of each burst, and coalesces bursts an outage or a short gap joins', () => {
    const changes = [
      at(1000, step('content', 'ConfigMap', 1)), at(1100, step('content', 'ConfigMap', 2)), // burst → cm2
      at(30_000, step('content', 'Secret', 1)), // outage until 33 s, then 5 s calm: joined with the next
      at(36_000, step('content', 'Secret', 2)),
      at(60_000, step('metadata', 'Secret', 2)), // no content change: nothing expected
    ];
    const exp = expectedRolls(changes, [[29_000, 33_000]], 6000, 90_000);
    assert.deepEqual(exp.expected.map(stateKey), ['cm2/s0', 'cm2/s2']);
    assert.deepEqual(exp.reached.map(stateKey), ['cm1/s0', 'cm2/s0', 'cm2/s1', 'cm2/s2']);
    assert.equal(stateKey(exp.final), 'cm2/s2');
    assert.equal(exp.contentChanges, 4);
  });

  it('judges lost, extra, repeated and out-of-order rolls', () => {
    const exp = expectedRolls([at(1000, step('content', 'ConfigMap', 1)), at(20_000, step('content', 'ConfigMap', 2))], [], 5000, 40_000);
    const s = (cm: number) => ({ cm, secret: 0 });
    assert.deepEqual(judge('w', 'Deployment', exp, [s(1), s(2)]), { workload: 'w', kind: 'Deployment', contentChanges: 2, expectedRolls: 2, rollsSeen: 2, lost: [], extra: [], finalOk: true });
    assert.deepEqual(judge('w', 'Deployment', exp, [s(2)]).lost, ['no roll to cm1/s0']);
    assert.equal(judge('w', 'Deployment', exp, [s(1)]).finalOk, false);
    assert.equal(judge('w', 'Deployment', exp, [s(1), s(2), s(1)]).extra.length, 1);
    assert.equal(judge('w', 'Deployment', exp, [s(0), s(1), s(2)]).extra.length, 1);
    assert.equal(judge('w', 'Deployment', exp, [s(1), undefined, s(2)]).extra.length, 1);
  });

  it('allows a roll while a config is deleted but expects none for the re-create', () => {
    const exp = expectedRolls([at(1000, step('recreate', 'Secret', 0))], [], 5000, 40_000);
    assert.deepEqual(exp.expected, []);
    assert.deepEqual(judge('w', 'StatefulSet', exp, []).lost, []);
    assert.equal(judge('w', 'StatefulSet', exp, [{ cm: 0, secret: ABSENT }]).finalOk, false);
  });
});

describe('soak oracle: a pending change whose config is deleted and re-created', () => {
  const pendingThenRecreated: AppliedChange[] = [at(1000, step('content', 'Secret', 1)), { step: step('recreate', 'Secret', 1), doneAt: 3500, deletedAt: 3000 }];

  it('is owed like any change: exactly one roll to it, and the final template must hold it', () => {
    const exp = expectedRolls(pendingThenRecreated, [], 5000, 60_000);
    assert.deepEqual(exp.expected.map(stateKey), ['cm0/s1']);
    assert.deepEqual(judge('w', 'DaemonSet', exp, []).lost, ['no roll to cm0/s1', 'final template is unrolled, final content is cm0/s1']);
    const v = judge('w', 'DaemonSet', exp, [{ cm: 0, secret: 1 }]);
    assert.deepEqual([v.lost, v.extra, v.finalOk], [[], [], true]);
    assert.equal(judge('w', 'DaemonSet', exp, [{ cm: 0, secret: 1 }, { cm: 0, secret: 1 }]).extra.length, 1);
    // Settled before the delete: the same.
    const settled = expectedRolls([at(1000, step('content', 'Secret', 1)), { step: step('recreate', 'Secret', 1), doneAt: 30_500, deletedAt: 30_000 }], [], 5000, 60_000);
    assert.deepEqual(settled.expected.map(stateKey), ['cm0/s1']);
  });

  it('a roll made while another config was deleted counts for its state, and may be the final template', () => {
    // The Secret change is pending when the ConfigMap is deleted; the roll names the Secret only (cm absent) and the
    // pods mount the re-created ConfigMap (same content): no second roll is owed.
    const changes: AppliedChange[] = [at(1000, step('content', 'Secret', 1)), { step: step('recreate', 'ConfigMap', 0), doneAt: 3500, deletedAt: 3000 }];
    const exp = expectedRolls(changes, [], 5000, 60_000);
    const v = judge('w', 'Deployment', exp, [{ cm: ABSENT, secret: 1 }]);
    assert.deepEqual([v.lost, v.extra, v.finalOk], [[], [], true]);
    assert.equal(judge('w', 'Deployment', exp, [{ cm: ABSENT, secret: 1 }, { cm: 0, secret: 1 }]).extra.length, 1, 'rolling again on the re-create is extra');
    // Not for a later state: a content change after the re-create is owed its own roll.
    const later = expectedRolls([...changes, at(30_000, step('content', 'ConfigMap', 1))], [], 5000, 60_000);
    const w = judge('w', 'Deployment', later, [{ cm: ABSENT, secret: 1 }]);
    assert.deepEqual(w.lost, ['no roll to cm1/s1', 'final template is cm-1/s1, final content is cm1/s1']);
  });
});

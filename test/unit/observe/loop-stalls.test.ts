// The /healthz decision on event-loop stalls: one long stall, or many shorter ones adding up, fail the replica for a
// window after they end; short jitter never does; the state stays bounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StallWindow, stallWindowFor } from '../../../src/observe/loop-stalls.js';

const policy = { maxBlockMs: 10_000, windowMs: 40_000 };

describe('StallWindow', () => {
  it('is healthy with no stalls and with jitter below a tenth of the limit, however often', () => {
    const w = new StallWindow(policy);
    assert.equal(w.verdict(0), undefined);
    for (let t = 0; t < 100_000; t += 250) w.record(t, 999);
    assert.equal(w.verdict(100_000), undefined);
    assert.equal(w.longest(100_000), 0);
  });

  it('fails while the watchdog tick is overdue by more than the limit (a request served before the tick)', () => {
    const w = new StallWindow(policy);
    assert.match(w.verdict(50_000, 12_000) ?? '', /event loop blocked for 12\.0s \(limit 10\.0s\)/);
    assert.equal(w.verdict(50_000, 9_000), undefined);
  });

  it('fails for the whole window after one stall over the limit, then recovers', () => {
    const w = new StallWindow(policy);
    w.record(100_000, 12_500);
    assert.match(w.verdict(100_000) ?? '', /was blocked for 12\.5s 0\.0s ago/);
    assert.match(w.verdict(139_999) ?? '', /was blocked for 12\.5s 40\.0s ago/);
    assert.equal(w.verdict(140_001), undefined);
  });

  it('a stall exactly at the limit is allowed', () => {
    const w = new StallWindow(policy);
    w.record(1000, 10_000);
    assert.equal(w.verdict(1000), undefined);
  });

  it('fails when recurring stalls of at least a tenth of the limit add up to more than it', () => {
    const w = new StallWindow(policy);
    for (let i = 0; i < 5; i++) w.record(i * 3000, 2000);
    assert.equal(w.verdict(12_000), undefined);
    w.record(15_000, 2000);
    assert.match(w.verdict(15_000) ?? '', /blocked 6 times for 12\.0s in total in the last 40\.0s/);
    // Once the early ones leave the window the replica is healthy again.
    assert.equal(w.verdict(46_000), undefined);
  });

  it('rejects a policy without positive limits', () => {
    assert.throws(() => new StallWindow({ maxBlockMs: 0, windowMs: 1 }), RangeError);
    assert.throws(() => new StallWindow({ maxBlockMs: 1, windowMs: Number.NaN }), RangeError);
  });

  it('window: at least 40 s and at least 3 limits', () => {
    assert.equal(stallWindowFor(10_000), 40_000);
    assert.equal(stallWindowFor(100), 40_000);
    assert.equal(stallWindowFor(60_000), 180_000);
  });

  it('property: the verdict is exactly "some stall over the limit, or the counted ones summing over it, in the window"', () => {
    fc.assert(fc.property(
      fc.integer({ min: 10, max: 20_000 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 30_000 })), { maxLength: 200 }),
      fc.integer({ min: 0, max: 200_000 }),
      (maxBlockMs, steps, after) => {
        const windowMs = stallWindowFor(maxBlockMs);
        const w = new StallWindow({ maxBlockMs, windowMs });
        const seen: { at: number; ms: number }[] = [];
        let t = 0;
        for (const [gap, ms] of steps) { t += gap; w.record(t, ms); seen.push({ at: t, ms }); }
        const now = t + after;
        const live = seen.filter((s) => s.at >= now - windowMs && s.ms >= maxBlockMs / 10);
        const expected = live.some((s) => s.ms > maxBlockMs) || live.reduce((a, s) => a + s.ms, 0) > maxBlockMs;
        assert.equal(w.verdict(now) !== undefined, expected);
        assert.equal(w.longest(now), live.reduce((m, s) => Math.max(m, s.ms), 0));
      },
    ));
  });
});

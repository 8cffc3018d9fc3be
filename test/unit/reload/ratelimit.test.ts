import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../../src/reload/ratelimit.js';

describe('TokenBucket', () => {
  it('allows a burst of one second\'s worth, then one per interval', () => {
    const b = new TokenBucket(10, 0);
    for (let i = 0; i < 10; i++) assert.equal(b.take(0), 0);
    assert.equal(b.take(0), 100);
    assert.equal(b.take(50), 50);
    assert.equal(b.take(100), 0);
    assert.equal(b.take(100), 100);
  });

  it('keeps a burst of at least one under one per second', () => {
    const b = new TokenBucket(0.2, 1000);
    assert.equal(b.take(1000), 0);
    assert.equal(b.take(1000), 5000);
    assert.equal(b.take(3500), 2500);
    assert.equal(b.take(6000), 0);
  });

  it('does not accumulate beyond the burst', () => {
    const b = new TokenBucket(2, 0);
    assert.equal(b.take(60_000), 0);
    assert.equal(b.take(60_000), 0);
    assert.equal(b.take(60_000), 500);
  });

  it('ignores a clock going backwards', () => {
    const b = new TokenBucket(1, 10_000);
    assert.equal(b.take(10_000), 0);
    assert.ok(b.take(5_000) > 0);
  });

  it('rejects a non-positive rate', () => {
    assert.throws(() => new TokenBucket(0, 0), /above 0/);
  });

  it('never lets more than burst + rate·t through in t', () => {
    const b = new TokenBucket(3, 0);
    let taken = 0;
    for (let now = 0; now <= 10_000; now += 7) if (b.take(now) === 0) taken++;
    assert.ok(taken <= 3 + 30 && taken >= 30, `took ${taken}`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../../src/reload/ratelimit.js';

describe('TokenBucket', () => {
  it('allows a burst of one second\'s worth, then hands out consecutive slots', () => {
    const b = new TokenBucket(10, 0);
    for (let i = 0; i < 10; i++) assert.equal(b.reserve(0), 0);
    assert.equal(b.reserve(0), 100);
    assert.equal(b.reserve(0), 200, 'the next caller gets the slot after the previous reservation');
    assert.equal(b.reserve(0), 300);
  });

  it('a reservation is honoured: after waiting, the debt is paid and new callers queue behind', () => {
    const b = new TokenBucket(1, 0);
    assert.equal(b.reserve(0), 0);
    assert.equal(b.reserve(0), 1000);
    assert.equal(b.reserve(500), 1500);
    assert.equal(b.reserve(3000), 0, 'debt paid off by t=3000 (two reservations: 1000 and 2000)');
  });

  it('keeps a burst of at least one under one per second', () => {
    const b = new TokenBucket(0.2, 1000);
    assert.equal(b.reserve(1000), 0);
    assert.equal(b.reserve(1000), 5000);
    assert.equal(b.reserve(1000), 10000);
  });

  it('does not accumulate beyond the burst', () => {
    const b = new TokenBucket(2, 0);
    assert.equal(b.reserve(60_000), 0);
    assert.equal(b.reserve(60_000), 0);
    assert.equal(b.reserve(60_000), 500);
  });

  it('ignores a clock going backwards', () => {
    const b = new TokenBucket(1, 10_000);
    assert.equal(b.reserve(10_000), 0);
    assert.ok(b.reserve(5_000) > 0);
  });

  it('rejects a non-positive rate', () => {
    assert.throws(() => new TokenBucket(0, 0), /above 0/);
  });

  it('5,000 simultaneous reservations are spread at the rate, one slot each', () => {
    const b = new TokenBucket(10, 0);
    const slots = Array.from({ length: 5000 }, () => b.reserve(0));
    assert.equal(slots.filter((s) => s === 0).length, 10);
    assert.equal(new Set(slots.slice(10)).size, 4990, 'no two waiting rolls share a slot');
    assert.equal(Math.max(...slots), 499_000);
  });
});

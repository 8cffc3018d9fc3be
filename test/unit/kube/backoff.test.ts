import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, sleep } from '../../../src/kube/backoff.js';

describe('backoffDelay', () => {
  const policy = { baseMs: 100, maxMs: 1000, jitter: 0 };
  it('doubles from the base and stops at the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(policy, a)), [100, 200, 400, 800, 1000, 1000, 1000]);
  });
  it('jitters downwards only, within the jitter fraction', () => {
    assert.equal(backoffDelay({ ...policy, jitter: 0.5 }, 2, () => 0), 400);
    assert.equal(backoffDelay({ ...policy, jitter: 0.5 }, 2, () => 0.999999), 200);
  });
  it('honours another factor and treats negative attempts as the first', () => {
    assert.equal(backoffDelay({ baseMs: 10, maxMs: 1e6, factor: 3, jitter: 0 }, 2), 90);
    assert.equal(backoffDelay(policy, -3), 100);
  });
});

describe('sleep', () => {
  it('ends early on abort', async () => {
    const ac = new AbortController();
    const t = Date.now();
    setTimeout(() => ac.abort(), 10);
    await sleep(10_000, ac.signal);
    assert.ok(Date.now() - t < 5000);
  });
  it('returns at once for an aborted signal', async () => { await sleep(10_000, AbortSignal.abort()); });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimit } from '../../../src/gitsync/apply.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (x) => {
      running++; peak = Math.max(peak, running);
      await tick(x);
      running--;
      return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
    assert.equal(peak, 3);
  });

  it('starts nothing new after a failure and throws the first one', async () => {
    const started: number[] = [];
    await assert.rejects(mapLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      if (x === 0) { await tick(0); throw new Error('object 0 rejected'); }
      await tick(20);
      if (x === 1) throw new Error('object 1 rejected');
      return x;
    }), /object 0 rejected/);
    assert.deepEqual(started, [0, 1]);
  });

  it('handles no items', async () => {
    assert.deepEqual(await mapLimit([], 8, async (x: number) => x), []);
  });
});

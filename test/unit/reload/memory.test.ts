import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ABSENT, type Observed } from '../../../src/reload/decide.js';
import { ReloadMemory } from '../../../src/reload/memory.js';

const observed = (configs: Record<string, string>): Observed => ({ v: 1, sel: '', hash: 'h', configs });

describe('ReloadMemory', () => {
  it('the first observed change opens the window; later ones do not move it', () => {
    const m = new ReloadMemory();
    m.observed('Deployment:a/web', 100, 1000);
    m.observed('Deployment:a/web', 200, 1000);
    assert.equal(m.since('Deployment:a/web', 300), 100);
    m.clearSince('Deployment:a/web');
    assert.equal(m.since('Deployment:a/web', 300), 300, 'no pending change: now is recorded');
    assert.equal(m.since('Deployment:a/web', 400), 300);
  });

  it('a window older than twice the debounce (never acted on: standby, paused, no leader) re-opens at a new change', () => {
    const m = new ReloadMemory();
    m.observed('k', 1_000, 2_000);
    m.observed('k', 5_000, 2_000); // 4 s old, 2 s debounce: not stale yet (a rate-limited roll may still be waiting)
    assert.equal(m.since('k', 5_000), 1_000);
    m.observed('k', 20_000, 2_000); // 19 s old: this replica never acted on it
    assert.equal(m.since('k', 20_000), 20_000, 'the configs changed with this one get their debounce to arrive');
    // A steady stream inside the debounce keeps its first window: it still rolls once per window.
    const s = new ReloadMemory();
    for (let t = 0; t <= 1_900; t += 100) s.observed('k', t, 1_000);
    assert.equal(s.since('k', 1_900), 0);
  });

  it('reserves one rate-limit slot per key until released or settled', () => {
    const m = new ReloadMemory();
    let reserved = 0;
    const reserve = () => 1000 + 100 * reserved++;
    assert.deepEqual(m.slot('k', reserve), { at: 1000, fresh: true });
    assert.deepEqual(m.slot('k', reserve), { at: 1000, fresh: false }, 'a requeue keeps its slot');
    m.releaseSlot('k');
    assert.deepEqual(m.slot('k', reserve), { at: 1100, fresh: true });
    m.settled('k');
    assert.deepEqual(m.slot('k', reserve), { at: 1200, fresh: true });
  });

  it('a noted change stays until a baseline holds the config present', () => {
    const m = new ReloadMemory();
    m.noteChange('k', 'ConfigMap/a');
    m.noteChange('k', 'Secret/b');
    m.settleChanges('k', observed({ 'ConfigMap/a': 'd1', 'Secret/b': ABSENT }));
    assert.deepEqual([...m.changes('k') ?? []], ['Secret/b'], 'an absent config is not settled');
    m.settleChanges('k', observed({ 'Secret/b': 'd2' }));
    assert.equal(m.changes('k'), undefined);
    m.noteChange('k', 'ConfigMap/a');
    m.clearChanges('k');
    assert.equal(m.changes('k'), undefined);
  });

  it('a conflicted roll is retried once without debounce; warnings and first sight are remembered', () => {
    const m = new ReloadMemory();
    assert.equal(m.takeRetryingRoll('k'), false);
    m.markRetryingRoll('k');
    assert.equal(m.takeRetryingRoll('k'), true);
    assert.equal(m.takeRetryingRoll('k'), false, 'consumed');
    assert.equal(m.alreadyWarned('k', 'uid|bad'), false);
    assert.equal(m.alreadyWarned('k', 'uid|bad'), true);
    assert.equal(m.alreadyWarned('k', undefined), false);
    assert.equal(m.alreadyWarned('k', 'uid|bad'), false, 'after the problems went, the same text warns again');
    assert.equal(m.firstSight('k'), true);
    assert.equal(m.firstSight('k'), false);
  });

  it('forget drops everything, so memory follows the workloads in the caches', () => {
    const m = new ReloadMemory();
    m.observed('k', 1, 1000);
    m.noteChange('k', 'ConfigMap/a');
    m.firstSight('k');
    m.forget('k');
    assert.equal(m.size, 0);
    assert.equal(m.firstSight('k'), true);
  });
});

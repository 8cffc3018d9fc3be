// The pure decisions of Lease leader election: record parsing, MicroTime format, observation clock, every branch
// of decide(), release and the renew deadline.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type LeaseRecord, decide, durationSeconds, formatMicroTime, mustGiveUp, observe, recordOf, releasedRecord, specOf,
} from '../../../src/kube/lease-decision.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 123);
const held = (holder: string, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: '2026-01-02T03:00:00.000000Z', renewTime: '2026-01-02T03:04:00.000000Z', leaseTransitions: 3, ...over,
});

describe('formatMicroTime', () => {
  it('writes RFC 3339 with six fractional digits and Z', () => {
    assert.equal(formatMicroTime(T0), '2026-01-02T03:04:05.123000Z');
    assert.match(formatMicroTime(0), /^1970-01-01T00:00:00\.000000Z$/);
  });
  it('round-trips through Date.parse to the millisecond', () => {
    assert.equal(Date.parse(formatMicroTime(T0)), T0);
  });
});

describe('durationSeconds', () => {
  it('rounds up to whole seconds, at least 1', () => {
    assert.equal(durationSeconds(15_000), 15);
    assert.equal(durationSeconds(2_500), 3);
    assert.equal(durationSeconds(1), 1);
    assert.equal(durationSeconds(0), 1);
  });
});

describe('recordOf / specOf', () => {
  it('reads a full spec', () => {
    const spec = { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: 'x', renewTime: 'y', leaseTransitions: 2 };
    assert.deepEqual(recordOf(spec), { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: 'x', renewTime: 'y', leaseTransitions: 2 });
  });
  it('fills missing or malformed fields with empty values', () => {
    assert.deepEqual(recordOf(undefined), { holderIdentity: '', leaseDurationSeconds: 0, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0 });
    assert.deepEqual(recordOf({ holderIdentity: 7, leaseDurationSeconds: 'x', leaseTransitions: NaN }), { holderIdentity: '', leaseDurationSeconds: 0, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0 });
  });
  it('writes a spec without undefined times', () => {
    assert.deepEqual(specOf({ holderIdentity: 'a', leaseDurationSeconds: 1, acquireTime: undefined, renewTime: 't', leaseTransitions: 0 }),
      { holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0, renewTime: 't' });
    assert.deepEqual(recordOf(specOf(held('b'))), held('b'));
  });
});

describe('observe', () => {
  it('has nothing to observe when the Lease is missing', () => {
    assert.equal(observe(undefined, undefined, T0), undefined);
    assert.equal(observe({ record: held('a'), seenAt: 1 }, undefined, T0), undefined);
  });
  it('starts the clock on a first or changed record', () => {
    assert.deepEqual(observe(undefined, held('a'), T0), { record: held('a'), seenAt: T0 });
    const prev = { record: held('a'), seenAt: 1 };
    for (const change of [{ holderIdentity: 'b' }, { renewTime: 'later' }, { acquireTime: 'other' }, { leaseTransitions: 4 }, { leaseDurationSeconds: 1 }]) {
      assert.deepEqual(observe(prev, held('a', change), T0), { record: held('a', change), seenAt: T0 }, JSON.stringify(change));
    }
  });
  it('keeps the first-seen time while the record is unchanged', () => {
    const prev = { record: held('a'), seenAt: 1 };
    assert.equal(observe(prev, held('a'), T0), prev);
  });
});

describe('decide', () => {
  const base = { identity: 'me', now: T0, leaseDurationMs: 15_000 };

  it('creates a missing Lease as holder with zero transitions', () => {
    const d = decide({ ...base, current: undefined, observed: undefined });
    assert.deepEqual(d, { action: 'create', record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: '2026-01-02T03:04:05.123000Z', renewTime: '2026-01-02T03:04:05.123000Z', leaseTransitions: 0 } });
  });

  it('renews its own lease: new renewTime, same acquireTime and transitions', () => {
    const current = held('me');
    const d = decide({ ...base, current, observed: observe(undefined, current, T0) });
    assert.deepEqual(d, { action: 'update', kind: 'renew', record: { ...current, renewTime: '2026-01-02T03:04:05.123000Z' } });
  });

  it('renews with its own duration and fills a missing acquireTime', () => {
    const current = held('me', { leaseDurationSeconds: 1, acquireTime: undefined });
    const d = decide({ ...base, current, observed: undefined });
    assert.equal(d.action, 'update');
    if (d.action !== 'update') return;
    assert.equal(d.record.leaseDurationSeconds, 15);
    assert.equal(d.record.acquireTime, formatMicroTime(T0));
  });

  it('acquires a released lease at once and counts a transition', () => {
    const current = held('', { leaseDurationSeconds: 1 });
    const d = decide({ ...base, current, observed: observe(undefined, current, T0) });
    assert.deepEqual(d, { action: 'update', kind: 'acquire', record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: formatMicroTime(T0), renewTime: formatMicroTime(T0), leaseTransitions: 4 } });
  });

  it('waits while another holder is within its duration since first seen', () => {
    const current = held('other');
    const observed = { record: current, seenAt: T0 - 14_999 };
    assert.deepEqual(decide({ ...base, current, observed }), { action: 'wait', holder: 'other', expiresAt: T0 + 1 });
  });

  it('takes over once the duration has passed since the record was first seen', () => {
    const current = held('other');
    const observed = { record: current, seenAt: T0 - 15_000 };
    const d = decide({ ...base, current, observed });
    assert.deepEqual(d, { action: 'update', kind: 'takeover', record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: formatMicroTime(T0), renewTime: formatMicroTime(T0), leaseTransitions: 4 } });
  });

  it('judges expiry on the local clock, not the renewTime in the record (clock skew)', () => {
    const current = held('other', { renewTime: '2000-01-01T00:00:00.000000Z' }); // far in the past by the record
    const d = decide({ ...base, current, observed: observe(undefined, current, T0) });
    assert.equal(d.action, 'wait');
  });

  it('starts a full duration for a record it has not observed before', () => {
    const current = held('other');
    const stale = { record: held('other', { renewTime: 'older' }), seenAt: T0 - 60_000 };
    assert.deepEqual(decide({ ...base, current, observed: stale }), { action: 'wait', holder: 'other', expiresAt: T0 + 15_000 });
    assert.deepEqual(decide({ ...base, current, observed: undefined }), { action: 'wait', holder: 'other', expiresAt: T0 + 15_000 });
  });

  it("uses the holder's promised duration, or ours when the record has none", () => {
    const short = held('other', { leaseDurationSeconds: 3 });
    assert.equal(decide({ ...base, current: short, observed: { record: short, seenAt: T0 - 3_000 } }).action, 'update');
    const none = held('other', { leaseDurationSeconds: 0 });
    assert.equal(decide({ ...base, current: none, observed: { record: none, seenAt: T0 - 14_000 } }).action, 'wait');
    assert.equal(decide({ ...base, current: none, observed: { record: none, seenAt: T0 - 15_000 } }).action, 'update');
  });

  it('writes leaseDurationSeconds as whole seconds', () => {
    const d = decide({ ...base, leaseDurationMs: 2_500, current: undefined, observed: undefined });
    assert.equal(d.action === 'create' && d.record.leaseDurationSeconds, 3);
  });
});

describe('releasedRecord', () => {
  it('empties the holder, expires in a second and keeps the transition count', () => {
    assert.deepEqual(releasedRecord(held('me'), T0), { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: formatMicroTime(T0), renewTime: formatMicroTime(T0), leaseTransitions: 3 });
  });
  it('is acquirable by anyone at once', () => {
    const r = releasedRecord(held('me'), T0);
    assert.equal(decide({ identity: 'x', now: T0, leaseDurationMs: 15_000, current: r, observed: observe(undefined, r, T0) }).action, 'update');
  });
});

describe('mustGiveUp', () => {
  it('gives up once the renew deadline has passed since the last renewal', () => {
    assert.equal(mustGiveUp(T0, T0 + 9_999, 10_000), false);
    assert.equal(mustGiveUp(T0, T0 + 10_000, 10_000), true);
    assert.equal(mustGiveUp(T0, T0, 10_000), false);
  });
});

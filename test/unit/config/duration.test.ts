import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0], ['0s', 0], ['1s', 1000], ['250ms', 250], ['1m30s', 90_000], ['720h', 2_592_000_000], ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1500], [' 10s ', 10_000], ['', undefined], ['soon', undefined], ['10', undefined], ['1d', undefined],
    ['-1s', undefined], ['1s2', undefined], ['s', undefined], ['1 s', undefined], ['1m 30s', undefined],
  ];
  for (const [text, want] of cases) it(`"${text}" → ${want}`, () => assert.equal(parseDuration(text), want));
});

describe('formatDuration', () => {
  const cases: [number, string][] = [[0, '0s'], [1000, '1s'], [90_000, '1m30s'], [2_592_000_000, '720h'], [250, '250ms'], [3_723_004, '1h2m3s4ms']];
  for (const [ms, want] of cases) it(`${ms} → ${want}`, () => assert.equal(formatDuration(ms), want));
  it('round-trips', () => { for (const ms of [1, 999, 61_000, 3_600_001]) assert.equal(parseDuration(formatDuration(ms)), ms); });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HISTORY_LIMIT, MAX_SUBJECT_CHARS, type HistoryEntry, subjectLine, withApplied } from '../../../src/gitsync/history.js';

const entry = (n: number, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  revision: `main@sha1:${n.toString(16).padStart(40, '0')}`, message: `commit ${n}`, appliedAt: new Date(n * 1000).toISOString(), objects: n, result: '1 created, 0 configured, 0 unchanged, 0 pruned', ...extra,
});

describe('subjectLine', () => {
  it('keeps the first line, trimmed', () => {
    assert.equal(subjectLine('  fix: the thing  \n\nlong body\nmore'), 'fix: the thing');
    assert.equal(subjectLine('one\r\ntwo'), 'one');
    assert.equal(subjectLine(''), '');
  });
  it('replaces control characters and cuts at the limit with an ellipsis, on code points', () => {
    assert.equal(subjectLine('a\tb\u0000c\u001bd'), 'a b c d');
    assert.equal(subjectLine('x'.repeat(MAX_SUBJECT_CHARS)), 'x'.repeat(MAX_SUBJECT_CHARS));
    assert.equal(subjectLine('x'.repeat(MAX_SUBJECT_CHARS + 1)), `${'x'.repeat(MAX_SUBJECT_CHARS)}…`);
    assert.equal(subjectLine('😀'.repeat(5), 3), '😀😀😀…');
    assert.equal(subjectLine('a\ud800b'), 'a\ufffdb');
  });
  it('a megabyte on one line is cut quickly (linear)', () => {
    const started = process.hrtime.bigint();
    assert.equal(subjectLine('y'.repeat(8 << 20)).length, MAX_SUBJECT_CHARS + 1);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e9 < 5);
  });
  it('property: never longer than the limit + 1, no line break, no control character, no lone surrogate', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 600 })), fc.integer({ min: 1, max: 300 }), (s, max) => {
      const out = subjectLine(s, max);
      assert.ok([...out].length <= max + 1);
      assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(out));
      assert.equal(Buffer.from(out, 'utf8').toString('utf8'), out, 'no lone surrogate');
    }));
  });
});

describe('withApplied', () => {
  it('appends a new revision, oldest first', () => {
    assert.deepEqual(withApplied(undefined, entry(1)), [entry(1)]);
    assert.deepEqual(withApplied([entry(1)], entry(2)), [entry(1), entry(2)]);
  });
  it('does not add the same revision twice in a row (drift re-apply, restart)', () => {
    const h = [entry(1), entry(2)];
    assert.deepEqual(withApplied(h, entry(2, { appliedAt: 'later' })), h);
  });
  it('a revision applied again after another one is a new entry (a revert)', () => {
    assert.deepEqual(withApplied([entry(1), entry(2)], entry(1)).map((e) => e.objects), [1, 2, 1]);
  });
  it('keeps the newest HISTORY_LIMIT entries', () => {
    let h: HistoryEntry[] = [];
    for (let n = 1; n <= 25; n++) h = withApplied(h, entry(n));
    assert.equal(h.length, HISTORY_LIMIT);
    assert.deepEqual(h.map((e) => e.objects), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });
  it('drops malformed entries a status writer left and bounds the new message', () => {
    const junk = [null, 3, 'x', { revision: 1 }, { ...entry(1), objects: '2' }, entry(2)] as unknown[];
    const h = withApplied(junk, entry(3, { message: `subject\nbody ${'z'.repeat(1000)}` }));
    assert.deepEqual(h.map((e) => e.objects), [2, 3]);
    assert.equal(h[1]!.message, 'subject');
  });
  it('property: length ≤ limit, newest is the entry, consecutive revisions differ when built by withApplied', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (revs, limit) => {
      let h: HistoryEntry[] = [];
      for (const r of revs) {
        h = withApplied(h, entry(r), limit);
        assert.ok(h.length <= limit);
        assert.equal(h.at(-1)!.revision, entry(r).revision);
        for (let i = 1; i < h.length; i++) assert.notEqual(h[i]!.revision, h[i - 1]!.revision);
      }
    }));
  });
});

// The GitSync page's side-by-side diff: rows paired from jsdiff's hunks, objects too large shown whole, the size cap
// and the time budget shared by all objects.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GitSyncDiff } from '../../../src/cli/diff.js';
import { diffView, hunkRows, sideBySide } from '../../../src/ui/diff-view.js';

const yaml = (lines: readonly string[]) => `${lines.join('\n')}\n`;
const base = Array.from({ length: 20 }, (_, i) => `k${i}: v${i}`);

describe('ui diff view', () => {
  it('pairs removals with the additions after them, context on both sides, with line numbers', () => {
    assert.deepEqual(hunkRows([' a', '-b', '-c', '+B', ' d', '+e'], 10, 20), [
      { left: { n: 10, text: 'a', kind: 'same' }, right: { n: 20, text: 'a', kind: 'same' } },
      { left: { n: 11, text: 'b', kind: 'del' }, right: { n: 21, text: 'B', kind: 'add' } },
      { left: { n: 12, text: 'c', kind: 'del' }, right: null },
      { left: { n: 13, text: 'd', kind: 'same' }, right: { n: 22, text: 'd', kind: 'same' } },
      { left: null, right: { n: 23, text: 'e', kind: 'add' } },
    ]);
  });

  it('one changed line in 20: one hunk with three lines of context each side', () => {
    const hunks = sideBySide(yaml(base), yaml(base.map((l, i) => (i === 10 ? 'k10: changed' : l))), 500);
    assert.equal(hunks.length, 1);
    assert.equal(hunks[0]!.rows.length, 7);
    assert.deepEqual(hunks[0]!.rows[3], { left: { n: 11, text: 'k10: v10', kind: 'del' }, right: { n: 11, text: 'k10: changed', kind: 'add' } });
  });

  it('a created object is all additions; equal texts have no hunks', () => {
    const created = sideBySide('', yaml(['a: 1', 'b: 2']), 500);
    assert.deepEqual(created[0]!.rows.map((r) => [r.left, r.right?.text]), [[null, 'a: 1'], [null, 'b: 2']]);
    assert.deepEqual(sideBySide(yaml(base), yaml(base), 500), []);
  });

  it('past the edit bound or with no time left, the object is shown whole', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
    const whole = sideBySide(yaml(many), yaml(many.map((l) => `${l}!`)), 500);
    assert.equal(whole.length, 1);
    assert.match(whole[0]!.header, /shown whole/);
    assert.equal(whole[0]!.rows.length, 3000);
    assert.match(sideBySide('a: 1\n', 'a: 2\n', 0)[0]!.header, /shown whole/);
  });

  it('refuses a diff over the size cap, and the budget is shared: once spent, objects are shown whole', () => {
    const d: GitSyncDiff = { revision: 'main@sha1:x', lastApplied: 'none', as: 'you', items: [
      { action: 'update', what: 'ConfigMap a/one', file: 'one.yaml', before: 'a: 1\n', after: 'a: 2\n' },
      { action: 'update', what: 'ConfigMap a/two', file: 'two.yaml', before: 'b: 1\n', after: 'b: 2\n' },
      { action: 'prune', what: 'ConfigMap a/old', file: '', before: '', after: '' },
    ] };
    assert.deepEqual(diffView(d, 2000, 10), { tooLarge: 20 });
    let t = 0;
    const view = diffView(d, 1000, 1000, () => (t += 600));
    assert.ok(!('tooLarge' in view));
    assert.doesNotMatch(view.items[0]!.hunks[0]!.header, /whole/);
    assert.match(view.items[1]!.hunks[0]!.header, /whole/);
    assert.deepEqual(view.items[2]!.hunks, []);
  });

  it('property: every line of both texts appears once, in order, on its side', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd: 1', ''), { maxLength: 30 }).map((l) => (l.length ? yaml(l) : ''));
    fc.assert(fc.property(text, text, (a, b) => {
      const rows = sideBySide(a, b, 500).flatMap((h) => h.rows);
      const left = rows.filter((r) => r.left).map((r) => r.left!.n);
      const right = rows.filter((r) => r.right).map((r) => r.right!.n);
      assert.deepEqual(left, [...left].sort((x, y) => x - y));
      assert.deepEqual(right, [...right].sort((x, y) => x - y));
      assert.equal(new Set(left).size, left.length);
      for (const r of rows) if (r.left?.kind === 'same') assert.equal(r.left.text, r.right!.text);
      if (a === b) assert.equal(rows.length, 0);
    }));
  });
});

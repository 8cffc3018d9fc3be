// keelson diff's line diff on big objects: a 5,000-line ConfigMap (25M cells for the old LCS table, 2.7 s and
// 220 MB) diffs in milliseconds, and a diff past the edit bound is shown whole, removed then added.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineDiff } from '../../../src/gitsync/textdiff.js';

const lines = Array.from({ length: 5000 }, (_, i) => `  key${i}: value-${i}`);

describe('lineDiff on large objects', () => {
  it('one changed line in 5,000: only it and its context, fast', () => {
    const started = performance.now();
    const out = lineDiff(lines.join('\n'), lines.map((l, i) => (i === 2500 ? `${l}x` : l)).join('\n'), 1);
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(out, ['  …', `  ${lines[2499]}`, `- ${lines[2500]}`, `+ ${lines[2500]}x`, `  ${lines[2501]}`, '  …']);
  });

  it('every line changed: everything removed, then everything added, within a generous bound', () => {
    const started = performance.now();
    const out = lineDiff(lines.join('\n'), lines.map((l) => `${l}y`).join('\n'));
    assert.ok(performance.now() - started < 5000);
    assert.equal(out.length, 10_000);
    assert.ok(out.slice(0, 5000).every((l) => l.startsWith('- ')) && out.slice(5000).every((l) => l.startsWith('+ ')));
  });
});

// Ignore rules: .keelsonignore then spec.ignore in gitignore syntax (negation across sources, folder patterns),
// bounds on their size, and the attack: patterns whose backtracking regexes take seconds on deep paths run in a
// worker that is stopped at the deadline while the event loop stays free.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IgnoreRulesError, MAX_PATTERNS, ignorePatterns, ignoredPaths, matchIgnored } from '../../../src/gitsync/ignore.js';

const PATHS = ['.github/workflows/ci.yaml', 'charts/app/values.yaml', 'apps/web.yaml', 'apps/keep.md', 'README.md', 'docs/x/y.md'];

describe('ignore rules', () => {
  it('reads .keelsonignore first, then spec.ignore, dropping comments and blank lines', () => {
    assert.deepEqual(ignorePatterns('# CI\n.github/\n\r\n*.md\r\n', 'charts/**/values.yaml\n!apps/keep.md'), ['.github/', '*.md', 'charts/**/values.yaml', '!apps/keep.md']);
    assert.deepEqual(ignorePatterns(undefined, undefined), []);
  });

  it('matches gitignore semantics: folders, globs, and re-inclusion by spec.ignore', () => {
    const patterns = ignorePatterns('.github/\n*.md\n', 'charts/**/values.yaml\n!apps/keep.md');
    assert.deepEqual(matchIgnored(patterns, PATHS), [true, true, false, false, true, true]);
    assert.deepEqual(matchIgnored(['/README.md'], ['README.md', 'docs/README.md']), [true, false], 'a leading slash anchors at the root');
  });

  it('refuses oversized rules with a message naming the source', () => {
    assert.throws(() => ignorePatterns('x'.repeat(70 * 1024), undefined), (e: Error) => e instanceof IgnoreRulesError && e.message.includes('.keelsonignore'));
    assert.throws(() => ignorePatterns(undefined, 'y'.repeat(2000)), (e: Error) => e instanceof IgnoreRulesError && e.message.includes('spec.ignore'));
    assert.throws(() => ignorePatterns(Array.from({ length: MAX_PATTERNS + 1 }, (_, i) => `p${i}`).join('\n'), undefined), IgnoreRulesError);
  });

  it('matches in a worker: same answers as in-process', async () => {
    const patterns = ['.github/', 'charts/**/values.yaml'];
    assert.deepEqual(await ignoredPaths(patterns, PATHS), matchIgnored(patterns, PATHS));
    assert.deepEqual(await ignoredPaths([], PATHS), PATHS.map(() => false));
  });

  it('attack: backtracking patterns on a deep path are stopped at the deadline; the event loop keeps ticking', async () => {
    // In-process this takes ~10 s (three "**" against a 400-level path).
    const patterns = ['**/x/**/x/**/x/**/w'];
    const paths = ['x/'.repeat(400) + 'q'];
    let ticks = 0;
    const ticker = setInterval(() => { ticks++; }, 10);
    const started = Date.now();
    await assert.rejects(ignoredPaths(patterns, paths, undefined, 1000), (e: Error) => e instanceof IgnoreRulesError && /took over 1s/.test(e.message));
    clearInterval(ticker);
    const took = Date.now() - started;
    assert.ok(took < 5000, `stopped after ${took} ms`);
    assert.ok(ticks >= 20, `the event loop ticked ${ticks} times while the worker ran`);
  });

  it('a cancelled sync stops the matching', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(ignoredPaths(['**/x/**/x/**/x/**/w'], ['x/'.repeat(400) + 'q'], ac.signal, 30_000), /cancelled/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefError, lsRemotePatterns, parseLsRemote, resolveRef } from '../../../src/gitsync/refs.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);

describe('refs', () => {
  const text = [`${A}\tHEAD`, `${A}\trefs/heads/main`, `${B}\trefs/heads/dev`, `${C}\trefs/tags/v1.0.0`, `${D}\trefs/tags/v1.1.0`, `${B}\trefs/tags/v1.1.0^{}`, 'garbage line', ''].join('\n');
  const refs = parseLsRemote(text);

  it('parses ls-remote output and peels annotated tags to their commit', () => {
    assert.equal(refs.get('refs/heads/main'), A);
    assert.equal(refs.get('refs/tags/v1.1.0'), B);
    assert.equal(refs.get('refs/tags/v1.0.0'), C);
    assert.equal(refs.has('refs/tags/v1.1.0^{}'), false);
  });
  it('resolves a branch, a tag, a semver range and a commit', () => {
    assert.deepEqual(resolveRef({ kind: 'branch', name: 'dev' }, refs), { fetchRef: 'refs/heads/dev', name: 'dev', sha: B });
    assert.deepEqual(resolveRef({ kind: 'tag', name: 'v1.0.0' }, refs), { fetchRef: 'refs/tags/v1.0.0', name: 'v1.0.0', sha: C });
    assert.deepEqual(resolveRef({ kind: 'semver', range: '^1.0.0' }, refs), { fetchRef: 'refs/tags/v1.1.0', name: 'v1.1.0', sha: B });
    assert.deepEqual(resolveRef({ kind: 'commit', sha: D }, refs), { fetchRef: D, name: undefined, sha: D });
    assert.deepEqual(resolveRef({ kind: 'commit', sha: D, branch: 'main' }, refs), { fetchRef: D, name: 'main', sha: D });
  });
  it('says what is missing', () => {
    assert.throws(() => resolveRef({ kind: 'branch', name: 'nope' }, refs), (e: unknown) => e instanceof RefError && /branch "nope" not found/.test(e.message));
    assert.throws(() => resolveRef({ kind: 'tag', name: 'v9' }, refs), /tag "v9" not found/);
    assert.throws(() => resolveRef({ kind: 'semver', range: '>=2.0.0' }, refs), /no tag matches semver range ">=2.0.0" \(2 tags seen\)/);
  });
  it('asks ls-remote only for what it needs', () => {
    assert.deepEqual(lsRemotePatterns({ kind: 'branch', name: 'main' }), ['refs/heads/main']);
    assert.deepEqual(lsRemotePatterns({ kind: 'tag', name: 'v1' }), ['refs/tags/v1', 'refs/tags/v1^{}']);
    assert.deepEqual(lsRemotePatterns({ kind: 'semver', range: '*' }), ['refs/tags/*']);
    assert.deepEqual(lsRemotePatterns({ kind: 'commit', sha: A }), []);
  });
});

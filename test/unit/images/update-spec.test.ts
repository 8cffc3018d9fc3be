// GitSync.spec.imageUpdate validation and the commit message that lists every change.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError, parseSpec } from '../../../src/gitsync/spec.js';
import { DEFAULT_SUBJECT, commitMessage, imageUpdateOf } from '../../../src/images/update-spec.js';

const sync = (spec: Record<string, unknown>) => parseSpec({ apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'x', namespace: 'ns' }, spec: { url: 'https://git.example.com/r.git', ...spec } });
const author = { name: 'Bot', email: 'bot@example.com' };

describe('spec.imageUpdate', () => {
  it('defaults: the ref\'s branch, spec.path, the default subject; none without the field', () => {
    const raw = { ref: { branch: 'prod' }, path: 'clusters/prod', imageUpdate: { author } };
    assert.deepEqual(imageUpdateOf(raw, sync(raw)), { branch: 'prod', path: 'clusters/prod', author, subject: DEFAULT_SUBJECT, signingKeyRef: undefined });
    assert.equal(imageUpdateOf({}, sync({})), undefined);
    const raw2 = { ref: { tag: 'v1' }, imageUpdate: { author, branch: 'main', path: './apps/', messageTemplate: 'chore: bump', signingKeyRef: { name: 'bot-key' } } };
    assert.deepEqual(imageUpdateOf(raw2, sync(raw2)), { branch: 'main', path: 'apps', author, subject: 'chore: bump', signingKeyRef: 'bot-key' });
  });

  it('names the field to fix', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ref: { tag: 'v1' }, imageUpdate: { author } }, /branch is required when spec.ref is not a branch/],
      [{ imageUpdate: {} }, /author.name is required/],
      [{ imageUpdate: { author: { name: 'a' } } }, /author.email is required/],
      [{ imageUpdate: { author: { name: 'a\nb', email: 'e' } } }, /author.name must be one line/],
      [{ imageUpdate: { author: { name: 'a', email: '<e>' } } }, /author.email/],
      [{ imageUpdate: { author, branch: '-x' } }, /not a valid branch name/],
      [{ imageUpdate: { author, branch: 'a..b' } }, /not a valid branch name/],
      [{ imageUpdate: { author, path: '../up' } }, /must stay inside the repository/],
      [{ imageUpdate: 'yes' }, /must be an object/],
      [{ imageUpdate: { author, signingKeyRef: {} } }, /signingKeyRef.name/],
    ];
    for (const [raw, re] of bad) assert.throws(() => imageUpdateOf(raw, sync(raw)), (e: Error) => e instanceof SpecError && re.test(e.message), JSON.stringify(raw));
  });

  it('the message lists every change (bounded)', () => {
    const c = (i: number) => ({ file: 'a.yaml', line: i, policy: 'ns:app', field: i % 2 ? 'tag' as const : 'ref' as const, from: '1', to: '2' });
    assert.equal(commitMessage('Update images', [c(1), c(2)]), 'Update images\n\n- a.yaml:1 ns:app (tag): 1 -> 2\n- a.yaml:2 ns:app: 1 -> 2\n');
    const many = commitMessage('s', Array.from({ length: 250 }, (_, i) => c(i)));
    assert.equal(many.split('\n').filter((l) => l.startsWith('- ')).length, 201);
    assert.match(many, /and 50 more/);
  });
});

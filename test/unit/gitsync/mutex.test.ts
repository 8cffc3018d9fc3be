import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutex, repoDirFor } from '../../../src/gitsync/git.js';

describe('KeyedMutex (one fetch per repository URL at a time)', () => {
  it('serialises work per key and runs different keys in parallel', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (key: string, id: string, ms: number) => m.with(key, async () => {
      log.push(`start ${id}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${id}`);
      return id;
    });
    const results = await Promise.all([job('u1', 'a', 30), job('u1', 'b', 5), job('u2', 'c', 5)]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.ok(log.indexOf('end a') < log.indexOf('start b'), log.join(', '));
    assert.ok(log.indexOf('start c') < log.indexOf('end a'), 'other URLs are not held up');
  });
  it('releases the key when the work fails', async () => {
    const m = new KeyedMutex();
    await assert.rejects(m.with('k', async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await m.with('k', async () => 1), 1);
  });
  it('gives each GitSync and URL its own cache folder', () => {
    const a = repoDirFor('/c', 'ns', 'app', 'https://h/r.git');
    assert.match(a, /^\/c\/ns_app_[0-9a-f]{16}$/);
    assert.notEqual(a, repoDirFor('/c', 'ns', 'app', 'https://h/other.git'));
    assert.equal(a, repoDirFor('/c', 'ns', 'app', 'https://h/r.git'));
  });
});

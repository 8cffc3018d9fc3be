// The kustomize fetch for tests keeps apt's hands off the system: every state, list, cache and source path is the
// private folder's, and dpkg's status is /dev/null (so nothing is "installed").

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { privateAptOptions } from '../../../scripts/ensure-kustomize.js';
import { kustomizeCacheDir } from '../../support/kustomize.js';

describe('ensure-kustomize', () => {
  it('points every apt path into the private folder', () => {
    const opts = privateAptOptions('/tmp/x');
    const values = new Map(opts.filter((_, i) => opts[i - 1] === '-o').map((o) => o.split('=') as [string, string]));
    assert.equal(values.get('Dir::Etc::SourceList'), '/tmp/x/sources.list');
    assert.equal(values.get('Dir::Etc::SourceParts'), '/dev/null');
    assert.equal(values.get('Dir::State::Lists'), '/tmp/x/lists');
    assert.equal(values.get('Dir::Cache'), '/tmp/x/cache');
    assert.equal(values.get('Dir::State::Status'), '/dev/null');
  });
  it('caches under KEELSON_CACHE, else XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(kustomizeCacheDir({ KEELSON_CACHE: '/c' }), '/c/kustomize');
    assert.equal(kustomizeCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/keelson/kustomize');
    assert.equal(kustomizeCacheDir({ HOME: '/h' }), '/h/.cache/keelson/kustomize');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageEnv, runtimeStageEnv } from '../../../bench/support/image-env.js';
import { ROOT } from '../../support/manifests.js';

describe('runtimeStageEnv (the environment the benchmarks give the controller)', () => {
  it('takes the ENV of the last stage only, both forms, continuation lines joined, later wins', () => {
    const text = [
      'FROM node:24 AS build', 'ENV BUILD_ONLY=1', '',
      'FROM node:24-slim', '# ENV COMMENTED=1', 'ENV A=1 \\', '    B="two"', 'ENV LEGACY some value', 'ENV A=3', 'CMD ["x"]',
    ].join('\n');
    assert.deepEqual(runtimeStageEnv(text), { A: '3', B: 'two', LEGACY: 'some value' });
  });

  it("the repository's image sets the glibc malloc limits the memory benchmark measures", () => {
    const env = imageEnv(ROOT);
    assert.equal(env.MALLOC_ARENA_MAX, '2');
    assert.equal(env.NODE_ENV, 'production');
  });
});

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { COMMANDS, main } from '../../../src/cli/main.js';
import { VERSION } from '../../../src/version.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => { out += d; });
  stderr.on('data', (d) => { err += d; });
  return { io: { stdin: new PassThrough(), stdout, stderr, env: {} }, out: () => out, err: () => err };
}

describe('keelson CLI', () => {
  it('--version and version print the package version', async () => {
    for (const argv of [['--version'], ['-v'], ['version']]) {
      const t = io();
      assert.equal(await main(argv, t.io), 0);
      assert.equal(t.out(), `${VERSION}\n`);
    }
  });
  it('lists every command in the usage', async () => {
    const t = io();
    assert.equal(await main(['--help'], t.io), 0);
    for (const name of Object.keys(COMMANDS)) assert.match(t.out(), new RegExp(`\\n  ${name} `));
  });
  it('no command is a usage error', async () => { assert.equal(await main([], io().io), 2); });
  it('an unknown command exits 2 and says so', async () => {
    const t = io();
    assert.equal(await main(['frobnicate'], t.io), 2);
    assert.match(t.err(), /unknown command "frobnicate"/);
  });
  it('controller --help lists the flags; a bad flag value exits 2 naming the flag and the form', async () => {
    const t = io();
    assert.equal(await main(['controller', '--help'], t.io), 0);
    assert.match(t.out(), /--max-rolls-per-second <number>/);
    const bad = io();
    assert.equal(await main(['controller', '--rollout-timeout', 'forever'], bad.io), 2);
    assert.match(bad.err(), /--rollout-timeout.*a duration such as/);
  });
});

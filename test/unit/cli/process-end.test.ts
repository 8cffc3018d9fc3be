// How the keelson process ends, with in-memory streams: no exit while a write is pending, a stdout failure becomes
// the exit code (141 for a reader that left, 74 for any other error) and never an uncaught exception.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { EXIT_BROKEN_PIPE, EXIT_OUTPUT_ERROR, exitCodeFor, flushed, runAndExit } from '../../../src/cli/process-end.js';

const errno = (code: string) => Object.assign(new Error(`write ${code}`), { code }) as NodeJS.ErrnoException;

/** A stream whose writes complete only when the test releases them, like a pipe nobody reads yet. */
function heldStream() {
  const held: (() => void)[] = [];
  let data = '';
  const stream = new Writable({ write(chunk, _enc, cb) { held.push(() => { data += String(chunk); cb(); }); } });
  return { stream, release: () => { while (held.length > 0) held.shift()!(); }, data: () => data, pending: () => held.length };
}

function sink() {
  let data = '';
  return { stream: new Writable({ write(chunk, _enc, cb) { data += String(chunk); cb(); } }), data: () => data };
}

/** A stdout whose every write fails with this errno code, as a pipe whose reader closed fails with EPIPE. */
function failing(code: string) {
  return new Writable({ write(_chunk, _enc, cb) { cb(errno(code)); } });
}

const tick = () => new Promise((r) => setImmediate(r));

describe('process end', () => {
  it('exitCodeFor: the command code without a stdout error; 141 for EPIPE; 74 for any other error', () => {
    for (const c of [0, 1, 2]) {
      assert.equal(exitCodeFor(c, undefined), c);
      assert.equal(exitCodeFor(c, errno('EPIPE')), EXIT_BROKEN_PIPE);
      assert.equal(exitCodeFor(c, errno('ENOSPC')), EXIT_OUTPUT_ERROR);
      assert.equal(exitCodeFor(c, new Error('no code')), EXIT_OUTPUT_ERROR);
    }
    assert.equal(EXIT_BROKEN_PIPE, 141);
  });

  it('flushed resolves only after every earlier write has completed', async () => {
    const s = heldStream();
    s.stream.write('a'.repeat(100_000));
    s.stream.write('b');
    let done = false;
    const p = flushed(s.stream).then(() => { done = true; });
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(done, false);
    while (!done) { s.release(); await tick(); }
    await p;
    assert.equal(s.data().length, 100_001);
  });

  it('flushed resolves at once on a destroyed stream', async () => {
    const s = sink();
    s.stream.destroy();
    await flushed(s.stream);
  });

  it('runAndExit exits only after stdout has drained, with the command code', async () => {
    const out = heldStream();
    const err = sink();
    const exits: number[] = [];
    const run = runAndExit(async () => { out.stream.write('x'.repeat(1 << 20)); return 1; }, { stdout: out.stream, stderr: err.stream }, (c) => exits.push(c));
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(exits, [], 'no exit while output is pending');
    while (exits.length === 0) { out.release(); await tick(); }
    await run;
    assert.deepEqual(exits, [1]);
    assert.equal(out.data().length, 1 << 20);
    assert.equal(err.data(), '');
  });

  it('a reader that went away (EPIPE) ends with 141, silently, after the command has finished its cleanup', async () => {
    const out = failing('EPIPE');
    const err = sink();
    const exits: number[] = [];
    let cleanedUp = false;
    await runAndExit(async () => {
      for (let i = 0; i < 10; i++) { out.write(`line ${i}\n`); await tick(); }
      cleanedUp = true;
      return 0;
    }, { stdout: out, stderr: err.stream }, (c) => exits.push(c));
    assert.deepEqual(exits, [EXIT_BROKEN_PIPE]);
    assert.ok(cleanedUp);
    assert.equal(err.data(), '', 'no stack trace, no message');
  });

  it('any other stdout error ends with 74 and one line on stderr naming it', async () => {
    const full = failing('ENOSPC');
    const err = sink();
    const exits: number[] = [];
    await runAndExit(async () => { full.write('data'); return 1; }, { stdout: full, stderr: err.stream }, (c) => exits.push(c));
    assert.deepEqual(exits, [EXIT_OUTPUT_ERROR]);
    assert.equal(err.data(), 'keelson: cannot write the output: ENOSPC\n');
  });

  it('a failing stderr is ignored: the command code stands', async () => {
    const out = sink();
    const exits: number[] = [];
    const stderr = failing('EPIPE');
    await runAndExit(async () => { stderr.write('warning\n'); out.stream.write('ok\n'); return 0; }, { stdout: out.stream, stderr }, (c) => exits.push(c));
    assert.deepEqual(exits, [0]);
    assert.equal(out.data(), 'ok\n');
  });
});

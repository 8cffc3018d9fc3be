// Liveness that sees a frozen loop: a real Manager in a child process, its event loop blocked on purpose. While the
// loop is blocked nothing answers (the kubelet's probe times out); after it, /healthz answers 503 naming the stall
// for the whole window, so the probe's failureThreshold trips; then it recovers.

import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '../support/wait.js';

const script = fileURLToPath(new URL('../support/blocked-loop.ts', import.meta.url));
// Stalls under a tenth of the limit (100 ms) never count, so scheduling jitter on a loaded machine cannot flake this.
const MAX_BLOCK_MS = 1000;
const WINDOW_MS = 3000;

describe('/healthz and a blocked event loop', () => {
  let child: ChildProcessByStdio<Writable, Readable, null>;
  let lines: AsyncIterator<string>;
  let url: string;

  before(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', script, String(MAX_BLOCK_MS), String(WINDOW_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    url = `http://127.0.0.1:${(JSON.parse(first.value as string) as { port: number }).port}/healthz`;
  });
  after(async () => {
    child.stdin.end();
    if (child.exitCode === null) await once(child, 'exit');
  });

  const healthz = async () => { const r = await fetch(url); return { status: r.status, text: await r.text() }; };

  it('is healthy while the loop runs, including short stalls', async () => {
    assert.deepEqual(await healthz(), { status: 200, text: 'ok\n' });
    child.stdin.write('block 20\n');
    assert.equal((await lines.next()).value, 'unblocked');
    assert.equal((await healthz()).status, 200);
  });

  it('answers 503 naming the stall after a block over the limit, also to a probe sent during the block, then recovers', async () => {
    child.stdin.write('block 2500\n');
    await new Promise((r) => setTimeout(r, 500));
    // Sent while the loop is frozen: answered only after it, and already unhealthy.
    const during = await healthz();
    assert.equal(during.status, 503);
    assert.match(during.text, /^unhealthy: event loop (was )?blocked for [2-9]\.\ds/);
    assert.equal((await lines.next()).value, 'unblocked');
    const afterBlock = await healthz();
    assert.equal(afterBlock.status, 503);
    assert.match(afterBlock.text, /was blocked for [2-9]\.\ds .* ago \(limit 1\.0s\)/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await healthz()).status, 503, 'still failing inside the window');
    await eventually('/healthz recovers after the window', async () => (await healthz()).status === 200, 5000);
  });

  it('answers 503 when shorter stalls keep recurring', async () => {
    for (let i = 0; i < 5; i++) {
      child.stdin.write('block 300\n');
      assert.equal((await lines.next()).value, 'unblocked');
    }
    const r = await healthz();
    assert.equal(r.status, 503);
    assert.match(r.text, /blocked \d+ times for \d\.\ds in total/);
  });
});

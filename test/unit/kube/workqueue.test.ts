import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../../src/observe/metrics.js';
import { silentLogger } from '../../../src/observe/logger.js';
import { TerminalError, WorkQueue } from '../../../src/kube/workqueue.js';
import { eventually } from '../../support/wait.js';

const logger = silentLogger();
const newQueue = (concurrency = 2, extra: Partial<ConstructorParameters<typeof WorkQueue>[0]> = {}) =>
  new WorkQueue({ name: 'test', concurrency, logger, backoff: { baseMs: 5, maxMs: 20, jitter: 0 }, ...extra });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('merges duplicate keys that are waiting', async () => {
    const q = newQueue();
    const seen: string[] = [];
    for (const k of ['a', 'b', 'a', 'a', 'b']) q.add(k);
    assert.equal(q.depth, 2);
    q.start(async (k) => { seen.push(k); });
    await q.whenIdle();
    assert.deepEqual(seen.sort(), ['a', 'b']);
  });

  it('never runs one key twice at once, and reruns a key added while it ran', async () => {
    const q = newQueue(4);
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    q.start(async () => {
      running++; runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await gate.promise;
      running--;
    });
    q.add('k');
    await eventually('first run', () => runs === 1);
    q.add('k'); q.add('k'); q.add('k');
    assert.equal(q.depth, 0, 'a running key is marked dirty, not queued');
    gate.resolve();
    await eventually('second run', () => runs === 2);
    await q.whenIdle();
    assert.equal(maxRunning, 1);
    assert.equal(runs, 2, 'three adds while running give exactly one rerun');
  });

  it('bounds concurrency', async () => {
    const q = newQueue(3);
    let running = 0;
    let maxRunning = 0;
    q.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.whenIdle();
    assert.equal(maxRunning, 3);
  });

  it('retries failures with growing backoff and forgets them after a success', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const q = newQueue(1, { metrics });
    const times: number[] = [];
    q.start(async () => {
      times.push(Date.now());
      if (times.length < 4) throw new Error('transient');
    });
    q.add('k');
    await eventually('four attempts', () => times.length === 4);
    assert.equal(q.retries('k'), 0);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[0]! >= 4 && gaps[1]! >= 9 && gaps[2]! >= 19, `gaps ${gaps}`);
    const text = await metrics.registry.metrics();
    assert.match(text, /keelson_workqueue_retries_total\{queue="test"\} 3/);
    assert.match(text, /keelson_reconcile_total\{queue="test",result="error"\} 3/);
  });

  it('does not retry a terminal error', async () => {
    const q = newQueue(1);
    let runs = 0;
    q.start(async () => { runs++; throw new TerminalError('bad input'); });
    q.add('k');
    await q.whenIdle();
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(runs, 1);
    assert.equal(q.delayedCount, 0);
  });

  it('requeues after the delay a reconciler asks for', async () => {
    const q = newQueue(1);
    let runs = 0;
    q.start(async () => { runs++; return runs < 3 ? { requeueAfterMs: 5 } : undefined; });
    q.add('k');
    await eventually('three runs', () => runs === 3);
    await q.whenIdle();
    assert.equal(q.delayedCount, 0);
  });

  it('delayed adds: the earliest deadline wins and add() supersedes', async () => {
    const q = newQueue(1);
    const seen: string[] = [];
    q.start(async (k) => { seen.push(k); });
    q.addAfter('a', 10_000);
    q.addAfter('a', 20);
    q.addAfter('a', 30_000);
    assert.equal(q.delayedCount, 1);
    await eventually('a after 20 ms', () => seen.length === 1);
    q.addAfter('b', 10_000);
    q.add('b');
    await eventually('b at once', () => seen.length === 2);
    assert.equal(q.delayedCount, 0);
    q.addAfter('c', 0);
    await eventually('c with zero delay', () => seen.length === 3);
    assert.deepEqual(seen, ['a', 'b', 'c']);
  });

  it('keys added before start wait for it', async () => {
    const q = newQueue();
    q.add('x');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(q.depth, 1);
    let ran = false;
    q.start(async () => { ran = true; });
    await q.whenIdle();
    assert.ok(ran);
  });

  it('shutdown drains in-flight work, drops the rest and takes nothing new', async () => {
    const q = newQueue(1);
    const gate = deferred();
    const seen: string[] = [];
    let aborted = false;
    q.start(async (k, signal) => { seen.push(k); if (k === 'a') await gate.promise; aborted = signal.aborted; });
    q.add('a'); q.add('b'); q.addAfter('c', 10);
    await eventually('a running', () => seen.length === 1);
    const done = q.shutdown(5000);
    q.add('d');
    setTimeout(() => gate.resolve(), 20);
    assert.equal(await done, true);
    assert.deepEqual(seen, ['a']);
    assert.equal(aborted, false, 'in-flight work finishes with a live signal');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(seen, ['a']);
  });

  it('shutdown reports work that outlives the timeout, and aborts its signal', async () => {
    const q = newQueue(1);
    let signal: AbortSignal | undefined;
    q.start(async (_k, s) => { signal = s; await new Promise((r) => s.addEventListener('abort', r)); });
    q.add('slow');
    await eventually('running', () => signal !== undefined);
    assert.equal(await q.shutdown(20), false);
    assert.equal(signal!.aborted, true);
  });

  it('reports depth as a metric', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const q = newQueue(1, { metrics });
    q.add('a'); q.add('b');
    assert.match(await metrics.registry.metrics(), /keelson_workqueue_depth\{queue="test"\} 2/);
    q.start(async () => {});
    await q.whenIdle();
    assert.match(await metrics.registry.metrics(), /keelson_workqueue_depth\{queue="test"\} 0/);
  });
});

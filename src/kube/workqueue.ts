// A work queue of keys in the shape of client-go's: a key waits at most once (duplicates merge), never runs twice
// at once (a key added while running runs again afterwards), runs with bounded concurrency, retries failures with
// per-key exponential backoff, reports terminal errors without retrying, and supports delayed adds (debounce).

import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { type BackoffPolicy, backoffDelay } from './backoff.js';
import { errorText } from './errors.js';

/** A failure that retrying cannot fix (bad input): counted and logged once, not retried. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export interface ReconcileResult {
  /** Run this key again after this long (e.g. to poll a rollout, or an interval), even on success. */
  readonly requeueAfterMs?: number;
}

export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  readonly name: string;
  readonly concurrency: number;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly backoff?: BackoffPolicy;
  /** Retries after which an error is logged at error level (retrying continues, with the maximum delay). */
  readonly warnAfterRetries?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  private reconciler: Reconciler | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: WorkQueueOptions) {}

  get name(): string { return this.opts.name; }
  /** Keys waiting (not counting delayed ones or running ones). */
  get depth(): number { return this.queue.length; }
  get runningCount(): number { return this.running.size; }
  get delayedCount(): number { return this.timers.size; }
  /** How many consecutive failures this key has had (0 after a success). */
  retries(key: string): number { return this.failures.get(key) ?? 0; }

  /** Queues a key now. A delayed add for the same key is superseded. */
  add(key: string): void {
    if (this.stopping) return;
    const t = this.timers.get(key);
    if (t) { clearTimeout(t.timer); this.timers.delete(key); }
    if (this.running.has(key)) { this.dirty.add(key); return; }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.updateDepth();
    this.pump();
  }

  /**
   * Queues a key after a delay. If the key is already waiting for a delayed add, the earlier deadline wins, so a
   * stream of events cannot postpone work forever (a debounce window opens at the first event).
   */
  addAfter(key: string, delayMs: number): void {
    if (this.stopping) return;
    if (delayMs <= 0) return this.add(key);
    if (this.queued.has(key)) return;
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => { this.timers.delete(key); this.add(key); }, delayMs);
    timer.unref?.();
    this.timers.set(key, { at, timer });
  }

  /** Forgets a key's failure count and any delayed add. */
  forget(key: string): void {
    this.failures.delete(key);
    const t = this.timers.get(key);
    if (t) { clearTimeout(t.timer); this.timers.delete(key); }
  }

  /** Starts processing with the given reconciler. Keys added before start wait until then. */
  start(reconciler: Reconciler): void {
    this.reconciler = reconciler;
    this.pump();
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). For tests and shutdown. */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Stops taking work: queued and delayed keys are dropped (the next start relists and finds them again, since
   * reconcilers are level-triggered); running reconciles get an aborted signal and are awaited up to timeoutMs.
   * Returns true when every in-flight reconcile finished in time.
   */
  async shutdown(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.updateDepth();
    const all = Promise.all([...this.inflight]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); });
    const finished = await Promise.race([all, timeout]);
    clearTimeout(timer);
    this.abort.abort();
    return finished;
  }

  private pump(): void {
    if (!this.reconciler || this.stopping) return;
    while (this.running.size < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      const p = this.process(key).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
    this.updateDepth();
  }

  private async process(key: string): Promise<void> {
    const { logger, metrics, name } = this.opts;
    let requeueAfter: number | undefined;
    try {
      const result = await this.reconciler!(key, this.abort.signal);
      this.failures.delete(key);
      metrics?.reconcileTotal.inc({ queue: name, result: 'ok' });
      requeueAfter = result?.requeueAfterMs;
    } catch (err) {
      if (err instanceof TerminalError) {
        this.failures.delete(key);
        metrics?.reconcileTotal.inc({ queue: name, result: 'terminal' });
        logger.error({ queue: name, key, err: err.message }, 'reconcile failed; not retrying until the object changes');
      } else {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        requeueAfter = backoffDelay(this.opts.backoff ?? { baseMs: 200, maxMs: 60_000 }, n - 1);
        metrics?.reconcileTotal.inc({ queue: name, result: 'error' });
        metrics?.workqueueRetries.inc({ queue: name });
        const level = n >= (this.opts.warnAfterRetries ?? 5) ? 'error' : 'warn';
        logger[level]({ queue: name, key, retries: n, retryInMs: requeueAfter, err: errorText(err) }, 'reconcile failed; will retry');
      }
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      else if (requeueAfter !== undefined) this.addAfter(key, requeueAfter);
      this.pump();
      if (this.queue.length === 0 && this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private updateDepth(): void {
    this.opts.metrics?.workqueueDepth.set({ queue: this.opts.name }, this.queue.length);
  }
}

// Measures event-loop stalls with a light timer and feeds them to StallWindow, so /healthz can fail on a loop that
// was frozen (a CPU-bound parse, a backtracking regex) and the kubelet restarts the replica. prom-client's default
// metrics export the loop lag distribution (nodejs_eventloop_lag_*); this adds the longest recent stall.

import { performance } from 'node:perf_hooks';
import { StallWindow, stallWindowFor } from './loop-stalls.js';

export interface LoopWatchdogOptions {
  readonly maxBlockMs: number;
  /** Default: stallWindowFor(maxBlockMs). */
  readonly windowMs?: number;
  /** Timer period; a stall is measured as how late a tick fires. */
  readonly tickMs?: number;
  /** Called on every tick with the longest stall in the window, in ms (for a gauge). */
  readonly onTick?: (longestMs: number) => void;
}

export class LoopWatchdog {
  private readonly window: StallWindow;
  private readonly tickMs: number;
  private lastTick = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LoopWatchdogOptions) {
    this.window = new StallWindow({ maxBlockMs: opts.maxBlockMs, windowMs: opts.windowMs ?? stallWindowFor(opts.maxBlockMs) });
    this.tickMs = opts.tickMs ?? Math.min(250, Math.max(10, opts.maxBlockMs / 20));
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = performance.now();
    // unref: the watchdog never keeps a process alive on its own.
    this.timer = setInterval(() => this.tick(), this.tickMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTick - this.tickMs;
    this.lastTick = now;
    if (late > 0) this.window.record(now, late);
    this.opts.onTick?.(this.window.longest(now));
  }

  /** Why the loop counts as wedged now, or undefined. */
  verdict(): string | undefined {
    if (!this.timer) return undefined;
    const now = performance.now();
    return this.window.verdict(now, now - this.lastTick - this.tickMs);
  }
}

// The pure decision behind /healthz: given the event-loop stalls measured so far, is this replica wedged? A stall
// is the time a timer fired late. While the loop is blocked nothing answers, so the verdict must outlast the block:
// it stays "unhealthy" for a window after a long stall, long enough for the kubelet's failureThreshold to trip.

export interface StallPolicy {
  /** One stall longer than this, or stalls of at least a tenth of it adding up to more, makes the replica unhealthy. */
  readonly maxBlockMs: number;
  /** How long a stall counts against the replica after it ended. */
  readonly windowMs: number;
}

/**
 * The window the controller uses: longer than the shipped liveness probe's failureThreshold × periodSeconds (3 × 10 s)
 * plus its timeout, so one long stall restarts the replica; never shorter than 3 blocks.
 */
export function stallWindowFor(maxBlockMs: number): number {
  return Math.max(40_000, 3 * maxBlockMs);
}

interface Stall { readonly endedAt: number; readonly ms: number }

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Stalls seen in the last window; bounded, since only stalls of at least maxBlockMs/10 are kept. */
export class StallWindow {
  private stalls: Stall[] = [];

  constructor(readonly policy: StallPolicy) {
    if (!(policy.maxBlockMs > 0) || !(policy.windowMs > 0)) throw new RangeError('maxBlockMs and windowMs must be positive');
  }

  private get minCountedMs(): number { return this.policy.maxBlockMs / 10; }

  /** Records that the loop was late by `ms` for a stall that ended at `now` (a monotonic clock in ms). */
  record(now: number, ms: number): void {
    this.prune(now);
    if (ms >= this.minCountedMs) this.stalls.push({ endedAt: now, ms });
  }

  private prune(now: number): void {
    const from = now - this.policy.windowMs;
    let drop = 0;
    while (drop < this.stalls.length && this.stalls[drop]!.endedAt < from) drop++;
    if (drop > 0) this.stalls = this.stalls.slice(drop);
  }

  /** The longest stall still in the window, in ms (0 when none). */
  longest(now: number): number {
    this.prune(now);
    return this.stalls.reduce((m, s) => Math.max(m, s.ms), 0);
  }

  /**
   * Why the replica is unhealthy at `now`, or undefined when it is healthy. `overdueMs` is how late the watchdog's
   * own next tick is right now: a request handled before the tick that ends a block still sees that block.
   */
  verdict(now: number, overdueMs = 0): string | undefined {
    this.prune(now);
    const { maxBlockMs, windowMs } = this.policy;
    if (overdueMs > maxBlockMs) return `event loop blocked for ${seconds(overdueMs)} (limit ${seconds(maxBlockMs)})`;
    const longest = this.stalls.reduce<Stall | undefined>((m, s) => (!m || s.ms > m.ms ? s : m), undefined);
    if (longest && longest.ms > maxBlockMs) {
      return `event loop was blocked for ${seconds(longest.ms)} ${seconds(now - longest.endedAt)} ago (limit ${seconds(maxBlockMs)})`;
    }
    const total = this.stalls.reduce((sum, s) => sum + s.ms, 0);
    if (total > maxBlockMs) {
      return `event loop blocked ${this.stalls.length} times for ${seconds(total)} in total in the last ${seconds(windowMs)} (limit ${seconds(maxBlockMs)})`;
    }
    return undefined;
  }
}

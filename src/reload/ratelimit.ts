// A token bucket for --max-rolls-per-second. Pure (the clock is passed in): a roll takes a token or learns how long
// to wait, so the reconciler requeues the workload instead of blocking a worker.

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** ratePerSecond tokens are added each second, up to burst (default: one second's worth, at least 1). */
  constructor(private readonly ratePerSecond: number, now: number, private readonly burst = Math.max(1, Math.floor(ratePerSecond))) {
    if (!(ratePerSecond > 0)) throw new Error('the roll rate limit must be above 0 per second');
    this.tokens = this.burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
    }
  }

  /** Takes a token and returns 0, or returns the milliseconds until one is available (taking nothing). */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) { this.tokens -= 1; return 0; }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
  }
}

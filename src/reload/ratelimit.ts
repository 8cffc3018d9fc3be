// A token bucket for --max-rolls-per-second, with reservations (as Go's rate.Limiter.Reserve): a roll that finds no
// token reserves the next free slot and is requeued for exactly then, so thousands of waiting workloads wake one
// at a time instead of all retrying at every refill. Pure: the clock is passed in.

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

  /**
   * Reserves one token: returns 0 when it is available now, else the milliseconds until the reserved slot. The
   * token is spent either way (the bucket goes into debt), so the next caller gets the slot after this one.
   */
  reserve(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
  }
}

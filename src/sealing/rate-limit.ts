// A token bucket per client address for the sealing endpoints: verify and rotate run private-key operations, so a
// caller cannot turn them into a CPU sink or a decryption oracle at speed. Pure; the clock is injectable.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {}

  /** Takes a token for this client; false means "429, try later". */
  take(client: string): boolean {
    const t = this.now();
    const b = this.buckets.get(client) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (this.buckets.size > 10_000) this.buckets.clear(); // bounded memory under address churn
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(client, b);
    return ok;
  }
}

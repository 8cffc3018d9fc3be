// A token bucket per key, LRU-bounded so memory stays bounded under key churn (attacker-chosen names or addresses)
// without resetting everyone at once. The one copy behind the webhook limiter (per GitSync) and the sealing
// endpoints' limiter (per client). Pure apart from the injectable clock.

import { LRUCache } from 'lru-cache';

interface Bucket { tokens: number; at: number }

export class KeyedTokenBucket {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now, maxKeys = 10_000) {
    this.buckets = new LRUCache<string, Bucket>({ max: maxKeys });
  }

  /** Takes a token for this key; false means "429, try later". */
  take(key: string): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.perSecond);
    b.at = t;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(key, b);
    return ok;
  }

  /** Seconds until the next token for this key (for Retry-After); 0 when one is there. */
  retryAfterSeconds(key: string): number {
    const b = this.buckets.get(key);
    if (!b || b.tokens >= 1) return 0;
    return Math.ceil((1 - b.tokens) / this.perSecond);
  }

  /** How many keys have a bucket. */
  get size(): number { return this.buckets.size; }
}

// What keeps the unauthenticated webhook endpoint cheap: webhook tokens served from a short-lived cache (one Secret
// GET per Secret per TTL, however many requests arrive, misses included), and a token bucket per GitSync so a
// flood of requests for one GitSync is answered 429 before its body is read. Both are LRU-bounded, so memory does
// not grow with the names an attacker tries. The clock is injectable; no I/O besides the loader handed in.

import { LRUCache } from 'lru-cache';
import { KeyedTokenBucket } from '../server/token-bucket.js';

export const SECRET_TTL_MS = 30_000;
export const HOOK_BURST = 10;
export const HOOK_PER_SECOND = 0.5;
const MAX_ENTRIES = 10_000;

/** The webhook token of a Secret (its "token" key), or undefined when the Secret or the key is missing. */
export type TokenLoader = (namespace: string, secretName: string) => Promise<string | undefined>;

export class WebhookSecretCache {
  // Promises, so concurrent requests share one GET; a missing Secret is cached as a resolved undefined.
  private readonly entries: LRUCache<string, { token: Promise<string | undefined> }>;

  constructor(private readonly load: TokenLoader, ttlMs = SECRET_TTL_MS, now: () => number = Date.now) {
    this.entries = new LRUCache({ max: MAX_ENTRIES, ttl: ttlMs, ttlResolution: 0, perf: { now } });
  }

  token(namespace: string, secretName: string): Promise<string | undefined> {
    const key = `${namespace}/${secretName}`;
    const hit = this.entries.get(key);
    if (hit) return hit.token;
    const token = this.load(namespace, secretName);
    const entry = { token };
    this.entries.set(key, entry);
    // An API error is not cached: the next request (itself rate limited) tries again.
    token.catch(() => { if (this.entries.get(key) === entry) this.entries.delete(key); });
    return token;
  }
}

/** A token bucket per GitSync (namespace/name), with the webhook defaults. Pure apart from the injectable clock. */
export class HookRateLimiter extends KeyedTokenBucket {
  constructor(perSecond = HOOK_PER_SECOND, burst = HOOK_BURST, now: () => number = Date.now) {
    super(perSecond, burst, now, MAX_ENTRIES);
  }
}

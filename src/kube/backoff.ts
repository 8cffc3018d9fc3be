// Exponential backoff with full jitter, shared by watch restarts, work-queue retries and leader election. Pure:
// the random source is injectable so tests can pin it.

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly factor?: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = full jitter). */
  readonly jitter?: number;
}

/** Delay before retry number `attempt` (0-based): base·factor^attempt capped at max, then jittered downwards. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const raw = Math.min(policy.maxMs, policy.baseMs * Math.pow(factor, Math.max(0, attempt)));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.2));
  return Math.round(raw * (1 - jitter * random()));
}

/** Resolves after ms, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when the signal aborts (at once if it already has): the tail of a runnable that only holds resources. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

// When the next sealing key is due. Pure: the schedule derives from the newest key's creation time, which lives in
// the cluster, so a restart neither renews early nor forgets a renewal that fell due while the controller was down.

/** Milliseconds until a new key is due (0 = now), or undefined when no renewal is scheduled (period 0). */
export function renewalDelayMs(newestCreatedAt: Date | undefined, periodMs: number, now: Date): number | undefined {
  if (!newestCreatedAt) return 0;
  if (periodMs <= 0) return undefined;
  return Math.max(0, newestCreatedAt.getTime() + periodMs - now.getTime());
}

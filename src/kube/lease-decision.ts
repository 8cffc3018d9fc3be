// The decisions of Lease-based leader election, as pure functions (after client-go's leaderelection package): is
// the lease free, held or expired, what record to write next, when a leader must give up. Expiry is judged on the
// local clock, from when this process first saw the holder's latest record, so clock skew between nodes is harmless.

/** The part of a coordination.k8s.io/v1 LeaseSpec leader election uses. */
export interface LeaseRecord {
  /** '' when the lease was released (or never held). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** MicroTime strings (RFC 3339 with microseconds). */
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

/** The last distinct record seen and the local time it was first seen. */
export interface Observation {
  readonly record: LeaseRecord;
  readonly seenAt: number;
}

export type Decision =
  /** No Lease exists: create it as the holder. */
  | { readonly action: 'create'; readonly record: LeaseRecord }
  /** Write this record over the current one (with its resourceVersion): a renewal, or taking a free/expired lease. */
  | { readonly action: 'update'; readonly record: LeaseRecord; readonly kind: 'renew' | 'acquire' | 'takeover' }
  /** Someone else holds a valid lease: try again later. */
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAt: number };

export interface DecisionInput {
  readonly identity: string;
  /** Local clock, ms since the epoch. */
  readonly now: number;
  /** Our lease duration, written into records we write. */
  readonly leaseDurationMs: number;
  /** The Lease's current record, undefined when the Lease does not exist. */
  readonly current: LeaseRecord | undefined;
  /** What observe() returned for current. */
  readonly observed: Observation | undefined;
}

/** RFC 3339 with exactly six fractional digits and Z, the wire form of metav1.MicroTime. */
export function formatMicroTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.123Z
  return `${iso.slice(0, -1)}000Z`;
}

/** Reads a LeaseSpec from the API (fields may be missing) into a complete record. */
export function recordOf(spec: unknown): LeaseRecord {
  const s = (spec && typeof spec === 'object' ? spec : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    holderIdentity: str(s.holderIdentity) ?? '',
    leaseDurationSeconds: num(s.leaseDurationSeconds),
    acquireTime: str(s.acquireTime),
    renewTime: str(s.renewTime),
    leaseTransitions: num(s.leaseTransitions),
  };
}

/** The LeaseSpec body for a record (undefined times left out). */
export function specOf(r: LeaseRecord): Record<string, unknown> {
  const spec: Record<string, unknown> = { holderIdentity: r.holderIdentity, leaseDurationSeconds: r.leaseDurationSeconds, leaseTransitions: r.leaseTransitions };
  if (r.acquireTime !== undefined) spec.acquireTime = r.acquireTime;
  if (r.renewTime !== undefined) spec.renewTime = r.renewTime;
  return spec;
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.leaseDurationSeconds === b.leaseDurationSeconds && a.acquireTime === b.acquireTime
    && a.renewTime === b.renewTime && a.leaseTransitions === b.leaseTransitions;
}

/** The observation after reading current: unchanged records keep their first-seen time, a new one starts the clock. */
export function observe(prev: Observation | undefined, current: LeaseRecord | undefined, now: number): Observation | undefined {
  if (current === undefined) return undefined;
  if (prev && sameRecord(prev.record, current)) return prev;
  return { record: current, seenAt: now };
}

/** Whole seconds for leaseDurationSeconds (the API field is an integer), at least 1. */
export function durationSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** What to do with the Lease now. */
export function decide(input: DecisionInput): Decision {
  const { identity, now, current } = input;
  const time = formatMicroTime(now);
  const duration = durationSeconds(input.leaseDurationMs);
  if (current === undefined) {
    return { action: 'create', record: { holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: time, renewTime: time, leaseTransitions: 0 } };
  }
  if (current.holderIdentity === identity) {
    return { action: 'update', kind: 'renew', record: { ...current, leaseDurationSeconds: duration, acquireTime: current.acquireTime ?? time, renewTime: time } };
  }
  const next: LeaseRecord = { holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: time, renewTime: time, leaseTransitions: current.leaseTransitions + 1 };
  if (current.holderIdentity === '') return { action: 'update', kind: 'acquire', record: next };
  // Held by another: valid until its promised duration has passed since we first saw this very record.
  const seenAt = input.observed && sameRecord(input.observed.record, current) ? input.observed.seenAt : now;
  const heldForMs = (current.leaseDurationSeconds > 0 ? current.leaseDurationSeconds * 1000 : input.leaseDurationMs);
  const expiresAt = seenAt + heldForMs;
  if (now < expiresAt) return { action: 'wait', holder: current.holderIdentity, expiresAt };
  return { action: 'update', kind: 'takeover', record: next };
}

/** The record a leader writes on release: nobody holds it and it expires in a second, so a standby takes it at once. */
export function releasedRecord(current: LeaseRecord, now: number): LeaseRecord {
  const time = formatMicroTime(now);
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: time, renewTime: time, leaseTransitions: current.leaseTransitions };
}

/** A leader that has not renewed for the renew deadline must stop acting: a standby may take over soon after. */
export function mustGiveUp(lastRenewedAt: number, now: number, renewDeadlineMs: number): boolean {
  return now - lastRenewedAt >= renewDeadlineMs;
}

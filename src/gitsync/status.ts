// GitSync status as data: conditions that keep their transition time while unchanged, the Flux-style Ready /
// Reconciling / Stalled triple for each outcome, and a comparison so status is written only when it changes. Pure.

import { setCondition } from '../kube/conditions.js';
import { canonical } from './drift.js';
import type { Condition, GitSyncStatus } from './spec.js';

export type Reason =
  | 'ReconciliationSucceeded' | 'Progressing' | 'InvalidSpec' | 'GitOperationFailed' | 'VerificationFailed'
  | 'ValidationFailed' | 'ApplyFailed' | 'PruneFailed' | 'EmptyRevision' | 'ReconciliationFailed' | 'Suspended'
  | 'ServiceAccountRequired' | 'Forbidden' | 'SecretForbidden'
  | 'InsecureTransport' | 'RevisionTooLarge'
  | 'HealthCheckFailed' | 'DependencyNotReady'
  | 'BuildFailed';

export { setCondition };

/**
 * Conditions for an outcome, kstatus-style: Ready always; Reconciling and Stalled only while True (an absent
 * abnormal-true condition means False), so a settled GitSync shows just Ready.
 */
export function outcomeConditions(prev: readonly Condition[] | undefined, outcome: { ready: 'True' | 'False' | 'Unknown'; reason: Reason; message: string; stalled?: boolean; reconciling?: boolean }, generation: number | undefined, now: string): Condition[] {
  let c = setCondition(prev, { type: 'Ready', status: outcome.ready, reason: outcome.reason, message: outcome.message, observedGeneration: generation }, now);
  c = outcome.reconciling
    ? setCondition(c, { type: 'Reconciling', status: 'True', reason: 'Progressing', message: outcome.message, observedGeneration: generation }, now)
    : c.filter((x) => x.type !== 'Reconciling');
  c = outcome.stalled
    ? setCondition(c, { type: 'Stalled', status: 'True', reason: outcome.reason, message: outcome.message, observedGeneration: generation }, now)
    : c.filter((x) => x.type !== 'Stalled');
  return c;
}

export function readyCondition(status: GitSyncStatus | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === 'Ready');
}

/** True when writing `next` would change what is stored. */
export function statusDiffers(current: GitSyncStatus | undefined, next: GitSyncStatus): boolean {
  for (const [k, v] of Object.entries(next)) {
    if (canonical(v ?? null) !== canonical((current as Record<string, unknown> | undefined)?.[k] ?? null)) return true;
  }
  return false;
}

/** A requeue delay: the interval plus up to 10% jitter, so many GitSyncs do not poll in lockstep. */
export function withJitter(intervalMs: number, random = Math.random()): number {
  return Math.round(intervalMs * (1 + 0.1 * random));
}

// GitSync health checks as decisions: which objects to check after applying (spec.wait: every object of the
// revision; spec.healthChecks: those named), what their health adds up to against the wait's start and
// spec.timeout, and how soon to look again. The rules per object are src/kube/health.ts. Pure.

import type { Health } from '../kube/health.js';
import { type InventoryRef, parseInventoryEntry } from './prune.js';
import type { GitSyncSpec, GitSyncStatus, HealthCheckRef, InventoryEntry } from './spec.js';

export interface HealthTarget extends HealthCheckRef {
  /** An object of the revision (it carries the owner labels, so a LIST by label finds it). */
  readonly applied: boolean;
}

export interface TargetHealth { readonly target: HealthTarget; readonly health: Health }

export type WaitOutcome =
  | { readonly state: 'healthy'; readonly message: string }
  | { readonly state: 'waiting'; readonly message: string; readonly retryMs: number }
  | { readonly state: 'failed'; readonly message: string };

/** Whether this spec waits for health at all. */
export const checksHealth = (spec: Pick<GitSyncSpec, 'wait' | 'healthChecks'>): boolean => spec.wait || spec.healthChecks.length > 0;

const targetKey = (t: HealthCheckRef) => `${t.group}/${t.kind}/${t.namespace ?? ''}/${t.name}`;

/** The objects to check: the revision's (with wait) and those spec.healthChecks names, each once, in a stable order. */
export function healthTargets(spec: Pick<GitSyncSpec, 'wait' | 'healthChecks'>, inventory: readonly InventoryEntry[] | undefined): HealthTarget[] {
  const out = new Map<string, HealthTarget>();
  if (spec.wait) {
    for (const e of inventory ?? []) {
      const ref: InventoryRef | undefined = parseInventoryEntry(e);
      if (!ref) continue;
      const t: HealthTarget = { group: ref.group, version: ref.version, kind: ref.kind, name: ref.name, namespace: ref.namespace, applied: true };
      out.set(targetKey(t), t);
    }
  }
  for (const h of spec.healthChecks) {
    const k = targetKey(h);
    if (!out.has(k)) out.set(k, { ...h, applied: false });
  }
  return [...out.values()];
}

/** "Deployment shop/web", "Namespace shop". */
export function describeTarget(t: HealthCheckRef): string {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

/** How many unhealthy objects a message names; the rest are counted. */
const NAMED = 5;

function list(results: readonly TargetHealth[]): string {
  const named = results.slice(0, NAMED).map((r) => `${describeTarget(r.target)}: ${r.health.detail}`).join('; ');
  return results.length > NAMED ? `${named}; and ${results.length - NAMED} more` : named;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/** Delay before looking again: short at first, then every 5 s (a wait never holds a work-queue slot). */
export function pollDelay(elapsedMs: number): number {
  return elapsedMs < 30_000 ? 2_000 : 5_000;
}

/**
 * The outcome of one look at the checked objects. A failed object (it will not recover by waiting) ends the wait
 * at once; objects still progressing keep it going until startedAt + timeout.
 */
export function waitOutcome(results: readonly TargetHealth[], startedAtMs: number, nowMs: number, timeoutMs: number): WaitOutcome {
  const failed = results.filter((r) => r.health.status === 'failed');
  const pending = results.filter((r) => r.health.status === 'progressing');
  const elapsed = Math.max(0, nowMs - startedAtMs);
  if (failed.length > 0) return { state: 'failed', message: `health check failed: ${list([...failed, ...pending])}` };
  if (pending.length === 0) return { state: 'healthy', message: `${results.length} object${results.length === 1 ? '' : 's'} healthy` };
  if (elapsed >= timeoutMs) {
    return { state: 'failed', message: `health check failed after ${seconds(elapsed)} (spec.timeout ${seconds(timeoutMs)}): ${list(pending)}` };
  }
  return { state: 'waiting', message: `waiting for ${pending.length} of ${results.length} objects to become healthy: ${list(pending)}`, retryMs: Math.min(pollDelay(elapsed), timeoutMs - elapsed) };
}

/**
 * When the current wait began, if the GitSync is in one that this reconcile should continue rather than start a
 * full sync: same generation, no new sync request, and a start recorded in status (it survives a restart).
 */
export function pendingWaitStart(status: GitSyncStatus, generation: number | undefined, requestedAt: string | undefined): number | undefined {
  if (!status.healthCheckStartedAt || status.observedGeneration !== generation) return undefined;
  if ((requestedAt ?? undefined) !== (status.lastHandledRequestedAt ?? undefined)) return undefined;
  const t = Date.parse(status.healthCheckStartedAt);
  return Number.isFinite(t) ? t : undefined;
}

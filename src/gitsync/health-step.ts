// The health step of a GitSync reconcile: look once at the objects it waits for and turn what is seen into the
// status to write (Ready / Reconciling, the wait's start, lastHealthyRevision) and when to look again. Waiting is
// a short requeue, never a held work-queue slot; the start of the wait is in status, so a restart keeps the deadline.

import type { KubeClient } from '../kube/client.js';
import type { Discovery } from './discovery.js';
import { healthTargets, waitOutcome } from './health-wait.js';
import { readHealth } from './health-read.js';
import type { Identity } from './identity.js';
import type { GitSyncSpec, GitSyncStatus, InventoryEntry } from './spec.js';
import type { Reason } from './status.js';

export interface HealthStep {
  /** Status fields to write with the outcome. */
  readonly status: Pick<GitSyncStatus, 'healthCheckStartedAt' | 'lastHealthyRevision'>;
  readonly outcome: { ready: 'True' | 'False' | 'Unknown'; reason: Reason; message: string; reconciling?: boolean };
  /** Set while waiting: look again after this long. */
  readonly retryMs: number | undefined;
}

export interface HealthStepInput {
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly identity: Identity;
  readonly spec: GitSyncSpec;
  readonly owner: { namespace: string; name: string };
  readonly inventory: readonly InventoryEntry[] | undefined;
  /** The revision the objects come from, and when the wait for it began. */
  readonly revision: string;
  readonly startedAtMs: number;
  readonly nowMs: number;
  readonly signal: AbortSignal;
}

export async function healthStep(i: HealthStepInput): Promise<HealthStep> {
  const results = await readHealth(i.client, i.discovery, healthTargets(i.spec, i.inventory), i.owner, i.identity, i.signal);
  const o = waitOutcome(results, i.startedAtMs, i.nowMs, i.spec.timeoutMs);
  switch (o.state) {
    case 'healthy':
      return {
        status: { healthCheckStartedAt: null, lastHealthyRevision: i.revision },
        outcome: { ready: 'True', reason: 'ReconciliationSucceeded', message: `applied revision ${i.revision}; ${o.message}` }, retryMs: undefined,
      };
    case 'failed':
      return { status: { healthCheckStartedAt: null }, outcome: { ready: 'False', reason: 'HealthCheckFailed', message: `revision ${i.revision}: ${o.message}` }, retryMs: undefined };
    case 'waiting':
      return {
        status: { healthCheckStartedAt: new Date(i.startedAtMs).toISOString() },
        outcome: { ready: 'Unknown', reason: 'Progressing', message: `applied revision ${i.revision}; ${o.message}`, reconciling: true }, retryMs: o.retryMs,
      };
  }
}

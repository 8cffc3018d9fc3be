// Whether a rolled workload has finished rolling out, as `kubectl rollout status` judges it, from the few spec and
// status fields a workload record keeps. Pure.

import type { WorkloadKind } from './workload-kinds.js';

export type { WorkloadKind } from './workload-kinds.js';

export interface RolloutFields {
  readonly generation: number;
  readonly observedGeneration: number;
  /** spec.replicas (Deployment/StatefulSet; default 1) or status.desiredNumberScheduled (DaemonSet). */
  readonly desired: number;
  /** status.replicas (Deployment/StatefulSet) or currentNumberScheduled (DaemonSet). */
  readonly current: number;
  readonly updated: number;
  readonly ready: number;
  readonly available: number;
  /** StatefulSet: spec.updateStrategy.type and rollingUpdate.partition; status.currentRevision/updateRevision. */
  readonly strategy?: string;
  readonly partition?: number;
  readonly currentRevision?: string;
  readonly updateRevision?: string;
  /** Deployment: reason of the Progressing condition when it is False (ProgressDeadlineExceeded). */
  readonly progressFailure?: string;
}

export type RolloutState =
  | { readonly state: 'progressing'; readonly detail: string }
  | { readonly state: 'complete'; readonly detail: string }
  | { readonly state: 'failed'; readonly detail: string };

export function rolloutState(kind: WorkloadKind, f: RolloutFields): RolloutState {
  if (f.observedGeneration < f.generation) return { state: 'progressing', detail: 'waiting for the controller to observe the new generation' };
  switch (kind) {
    case 'Deployment': {
      if (f.progressFailure === 'ProgressDeadlineExceeded') return { state: 'failed', detail: 'progress deadline exceeded (ProgressDeadlineExceeded)' };
      if (f.updated < f.desired) return { state: 'progressing', detail: `${f.updated} of ${f.desired} replicas updated` };
      if (f.current > f.updated) return { state: 'progressing', detail: `${f.current - f.updated} old replicas pending termination` };
      if (f.available < f.updated) return { state: 'progressing', detail: `${f.available} of ${f.updated} updated replicas available` };
      return { state: 'complete', detail: `${f.updated} replicas updated and available` };
    }
    case 'StatefulSet': {
      if (f.strategy === 'OnDelete') return { state: 'complete', detail: 'updateStrategy OnDelete: pods update when deleted; not tracked' };
      const partition = f.partition ?? 0;
      if (partition > 0) {
        const want = Math.max(0, f.desired - partition);
        if (f.updated < want) return { state: 'progressing', detail: `${f.updated} of ${want} replicas updated (partition ${partition})` };
        return { state: 'complete', detail: `${f.updated} replicas above partition ${partition} updated` };
      }
      if (f.updated < f.desired) return { state: 'progressing', detail: `${f.updated} of ${f.desired} replicas updated` };
      if (f.ready < f.desired) return { state: 'progressing', detail: `${f.ready} of ${f.desired} replicas ready` };
      if (f.updateRevision && f.currentRevision !== f.updateRevision) return { state: 'progressing', detail: 'waiting for the update revision to become current' };
      return { state: 'complete', detail: `${f.updated} replicas updated and ready` };
    }
    case 'DaemonSet': {
      if (f.strategy === 'OnDelete') return { state: 'complete', detail: 'updateStrategy OnDelete: pods update when deleted; not tracked' };
      if (f.updated < f.desired) return { state: 'progressing', detail: `${f.updated} of ${f.desired} pods updated` };
      if (f.available < f.desired) return { state: 'progressing', detail: `${f.available} of ${f.desired} updated pods available` };
      return { state: 'complete', detail: `${f.updated} pods updated and available` };
    }
    // Not tracked (KINDS[kind].tracked): a Job run or an Argo rollout has its own status and controller.
    default:
      return { state: 'complete', detail: 'not tracked' };
  }
}

// Whether a live object is healthy, kstatus-style, in one place for everyone who waits on the cluster: reload's
// rollout tracking (rolloutState, as `kubectl rollout status` judges a workload) and GitSync health checks
// (objectHealth, for any object). Pure: the callers read the objects; this only judges them.

import type { KubeObject } from './types.js';

/** The kinds whose rollouts are tracked; rolloutState calls any other kind complete (not tracked). */
export type RolloutKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

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
  readonly strategy?: string | undefined;
  readonly partition?: number | undefined;
  readonly currentRevision?: string | undefined;
  readonly updateRevision?: string | undefined;
  /** Deployment: reason of the Progressing condition when it is False (ProgressDeadlineExceeded). */
  readonly progressFailure?: string | undefined;
}

export type RolloutState =
  | { readonly state: 'progressing'; readonly detail: string }
  | { readonly state: 'complete'; readonly detail: string }
  | { readonly state: 'failed'; readonly detail: string };

interface WorkloadSpec {
  replicas?: number;
  strategy?: { type?: string };
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
}
interface WorkloadStatus {
  observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number;
  currentRevision?: string; updateRevision?: string;
  desiredNumberScheduled?: number; currentNumberScheduled?: number; updatedNumberScheduled?: number; numberReady?: number; numberAvailable?: number;
  conditions?: { type: string; status: string; reason?: string }[];
}

/** The few spec and status fields of a workload that rolloutState reads. */
export function rolloutFields(kind: string, obj: KubeObject): RolloutFields {
  const spec = (obj.spec ?? {}) as WorkloadSpec;
  const st = (obj.status ?? {}) as WorkloadStatus;
  const base = { generation: num(obj.metadata.generation), observedGeneration: num(st.observedGeneration) };
  if (kind === 'DaemonSet') {
    return {
      ...base, desired: num(st.desiredNumberScheduled), current: num(st.currentNumberScheduled), updated: num(st.updatedNumberScheduled),
      ready: num(st.numberReady), available: num(st.numberAvailable), strategy: text(spec.updateStrategy?.type),
    };
  }
  const progressing = Array.isArray(st.conditions) ? st.conditions.find((c) => c?.type === 'Progressing') : undefined;
  return {
    ...base, desired: num(spec.replicas, 1), current: num(st.replicas), updated: num(st.updatedReplicas),
    ready: num(st.readyReplicas), available: num(st.availableReplicas),
    strategy: text(kind === 'StatefulSet' ? spec.updateStrategy?.type : spec.strategy?.type),
    partition: typeof spec.updateStrategy?.rollingUpdate?.partition === 'number' ? spec.updateStrategy.rollingUpdate.partition : undefined,
    currentRevision: text(st.currentRevision), updateRevision: text(st.updateRevision),
    progressFailure: progressing?.status === 'False' ? text(progressing.reason) : undefined,
  };
}

// The API server types these fields; the guards only keep a malformed object from throwing.
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function rolloutState(kind: string, f: RolloutFields): RolloutState {
  if (f.observedGeneration < f.generation) return { state: 'progressing', detail: 'waiting for the controller to observe the new generation' };
  switch (kind) {
    case 'Deployment': {
      if (f.progressFailure === 'ProgressDeadlineExceeded') {
        return { state: 'failed', detail: `${Math.max(0, f.desired - f.available)} of ${f.desired} replicas unavailable, ProgressDeadlineExceeded` };
      }
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
    // Not tracked (reload's KINDS[kind].tracked): a Job run or an Argo rollout has its own status and controller.
    default:
      return { state: 'complete', detail: 'not tracked' };
  }
}

/**
 * An object's health: 'healthy' (kstatus Current), 'progressing' (InProgress: may still get there), 'failed'
 * (Failed: will not get there without a change). The detail is short text for a condition message.
 */
export type Health =
  | { readonly status: 'healthy'; readonly detail: string }
  | { readonly status: 'progressing'; readonly detail: string }
  | { readonly status: 'failed'; readonly detail: string };

interface Cond { type?: unknown; status?: unknown; reason?: unknown; message?: unknown; observedGeneration?: unknown }

/** Longest piece of a condition message quoted: it is text from the cluster, shown in a GitSync's status. */
const MAX_QUOTED = 200;

function quote(text: unknown): string {
  if (typeof text !== 'string' || text === '') return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED)}…` : flat;
}

function conditionsOf(obj: KubeObject): Cond[] {
  const c = (obj.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? c.filter((x): x is Cond => !!x && typeof x === 'object') : [];
}

function condition(obj: KubeObject, type: string): Cond | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

function why(c: Cond): string {
  const reason = typeof c.reason === 'string' && c.reason !== '' ? c.reason : '';
  const message = quote(c.message);
  return [reason, message].filter((s) => s !== '').join(': ');
}

const healthy = (detail: string): Health => ({ status: 'healthy', detail });
const progressing = (detail: string): Health => ({ status: 'progressing', detail });
const failed = (detail: string): Health => ({ status: 'failed', detail });

function groupOf(obj: KubeObject): string {
  const av = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const i = av.indexOf('/');
  return i < 0 ? '' : av.slice(0, i);
}

function phase(obj: KubeObject): string | undefined {
  const p = (obj.status as { phase?: unknown } | undefined)?.phase;
  return typeof p === 'string' ? p : undefined;
}

/** The health of a live object (undefined: it does not exist). */
export function objectHealth(obj: KubeObject | undefined): Health {
  if (!obj) return progressing('not found');
  if (obj.metadata.deletionTimestamp) return progressing('being deleted');
  const group = groupOf(obj);
  const kind = obj.kind;
  if (group === 'apps' && (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet')) {
    const st = rolloutState(kind, rolloutFields(kind, obj));
    return st.state === 'complete' ? healthy(st.detail) : st.state === 'failed' ? failed(st.detail) : progressing(st.detail);
  }
  const generation = obj.metadata.generation;
  const observed = (obj.status as { observedGeneration?: unknown } | undefined)?.observedGeneration;
  if (typeof generation === 'number' && typeof observed === 'number' && observed < generation) {
    return progressing(`waiting for its controller to observe generation ${generation}`);
  }
  if (group === 'batch' && kind === 'Job') {
    const done = condition(obj, 'Complete');
    if (done?.status === 'True') return healthy('complete');
    const fail = condition(obj, 'Failed');
    if (fail?.status === 'True') return failed(`failed${why(fail) ? `: ${why(fail)}` : ''}`);
    const st = (obj.status ?? {}) as { active?: number; succeeded?: number };
    return progressing(`not complete (${st.active ?? 0} active, ${st.succeeded ?? 0} succeeded)`);
  }
  if (group === '' && kind === 'PersistentVolumeClaim') {
    const p = phase(obj);
    if (p === 'Bound') return healthy('bound');
    if (p === 'Lost') return failed('claim lost (its PersistentVolume is gone)');
    return progressing(`not bound (phase ${p ?? 'unknown'})`);
  }
  if (group === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition') {
    const est = condition(obj, 'Established');
    if (est?.status === 'True') return healthy('established');
    const names = condition(obj, 'NamesAccepted');
    if (names?.status === 'False') return failed(`names not accepted${why(names) ? `: ${why(names)}` : ''}`);
    return progressing('not established yet');
  }
  if (group === '' && kind === 'Namespace') {
    const p = phase(obj);
    return p === 'Active' || p === undefined ? healthy('active') : progressing(`phase ${p}`);
  }
  if (group === '' && kind === 'Pod') {
    const p = phase(obj);
    if (p === 'Succeeded') return healthy('succeeded');
    if (p === 'Failed') return failed(`pod failed${quote((obj.status as { reason?: unknown }).reason) ? `: ${quote((obj.status as { reason?: unknown }).reason)}` : ''}`);
  }
  return genericHealth(obj, generation);
}

/** Any other object: Stalled, then Ready, then Available conditions (with observedGeneration) decide; else it exists. */
function genericHealth(obj: KubeObject, generation: number | undefined): Health {
  const stalled = condition(obj, 'Stalled');
  if (stalled?.status === 'True') return failed(`Stalled${why(stalled) ? `: ${why(stalled)}` : ''}`);
  const c = condition(obj, 'Ready') ?? condition(obj, 'Available');
  if (!c) return healthy('exists');
  const type = String(c.type);
  if (typeof generation === 'number' && typeof c.observedGeneration === 'number' && c.observedGeneration < generation) {
    return progressing(`${type} condition is for generation ${c.observedGeneration}, not ${generation}`);
  }
  if (c.status === 'True') return healthy(`${type}`);
  return progressing(`${type}=${c.status === 'False' ? 'False' : 'Unknown'}${why(c) ? `: ${why(c)}` : ''}`);
}

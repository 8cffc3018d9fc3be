// Follows a rolled workload to RolloutComplete or RolloutFailed. The tracker holds only which generation to wait for
// and until when; the reconciler calls step() whenever the workload's status changes (the store sees it) and when
// the deadline passes, and it emits the Events and metrics.

import type { EventRecorder, InvolvedObject } from '../kube/events.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import type { WorkloadRecord } from './records.js';
import { rolloutState } from '../kube/health.js';

interface Tracked { uid: string; generation: number; deadline: number; trigger: string }

export function involvedWorkload(w: WorkloadRecord): InvolvedObject {
  return { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, uid: w.uid };
}

export class RolloutTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly deps: { events: EventRecorder; metrics: Metrics; logger: Logger; timeoutMs: number; now?: () => number },
  ) {}

  private now(): number { return (this.deps.now ?? Date.now)(); }

  has(key: string): boolean { return this.tracked.has(key); }
  forget(key: string): void { this.tracked.delete(key); }
  get size(): number { return this.tracked.size; }

  /** Starts following a roll that produced `generation`; startedAt lets a restarted controller keep the deadline. */
  start(key: string, w: WorkloadRecord, generation: number, trigger: string, startedAt = this.now()): void {
    this.tracked.set(key, { uid: w.uid, generation, deadline: startedAt + this.deps.timeoutMs, trigger });
  }

  /** Evaluates the rollout now; returns ms until the deadline while it is still in progress. */
  async step(key: string, w: WorkloadRecord): Promise<number | undefined> {
    const t = this.tracked.get(key);
    if (!t) return undefined;
    if (t.uid !== w.uid) { this.tracked.delete(key); return undefined; }
    const { events, metrics, logger } = this.deps;
    const fields = { ...w.rollout, generation: Math.max(w.rollout.generation, t.generation) };
    const st = rolloutState(w.kind, fields);
    const ref = `${w.kind} ${w.namespace}/${w.name}`;
    if (st.state === 'complete') {
      this.tracked.delete(key);
      metrics.rolloutsTotal.inc({ kind: w.kind, result: 'complete' });
      logger.info({ workload: ref, trigger: t.trigger, detail: st.detail }, 'rollout complete');
      await events.record(involvedWorkload(w), 'Normal', 'RolloutComplete', `Rollout after ${t.trigger} changed is complete: ${st.detail}`);
      return undefined;
    }
    if (st.state === 'failed') {
      this.tracked.delete(key);
      metrics.rolloutsTotal.inc({ kind: w.kind, result: 'failed' });
      logger.warn({ workload: ref, trigger: t.trigger, detail: st.detail }, 'rollout failed');
      await events.record(involvedWorkload(w), 'Warning', 'RolloutFailed', `Rollout after ${t.trigger} changed failed: ${st.detail}`);
      return undefined;
    }
    const left = t.deadline - this.now();
    if (left <= 0) {
      this.tracked.delete(key);
      metrics.rolloutsTotal.inc({ kind: w.kind, result: 'timeout' });
      const secs = Math.round(this.deps.timeoutMs / 1000);
      logger.warn({ workload: ref, trigger: t.trigger, detail: st.detail }, 'rollout not complete within --rollout-timeout');
      await events.record(involvedWorkload(w), 'Warning', 'RolloutFailed', `Rollout after ${t.trigger} changed not complete within --rollout-timeout (${secs}s): ${st.detail}`);
      return undefined;
    }
    return left;
  }
}

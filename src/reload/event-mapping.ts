// Which workloads a store event concerns, and when to look at them: a config's content (or annotation) change
// enqueues every workload that references or names it, after that workload's debounce; a workload's own change
// enqueues it; a Namespace entering or leaving --namespace-selector enqueues its workloads. Events only enqueue
// keys (and note when a change was first seen, in ReloadMemory); the reconciler (reloader.ts) decides from the caches.

import { parseDuration } from '../config/duration.js';
import type { Enqueue } from '../kube/controller-builder.js';
import type { StoreEvent } from '../kube/store.js';
import { WORKLOAD, firstOf } from './annotations.js';
import type { ReloadMemory } from './memory.js';
import { CONFIG_INDEX, type ConfigRecord, NAMESPACE_INDEX, type WorkloadRecord, configIndexKey } from './records.js';
import { configId } from './references.js';
import type { ReloadStores, StoreGroup } from './stores.js';
import type { WorkloadKind } from './workload-kinds.js';

/** The reload queue's keys: `Kind:namespace/name`, so one queue serves every workload kind. */
export const workloadKey = (kind: WorkloadKind, namespace: string, name: string): string => `${kind}:${namespace}/${name}`;

export function parseWorkloadKey(key: string): { kind: WorkloadKind; namespace: string; name: string } {
  const colon = key.indexOf(':');
  const slash = key.indexOf('/', colon);
  return { kind: key.slice(0, colon) as WorkloadKind, namespace: key.slice(colon + 1, slash), name: key.slice(slash + 1) };
}

/** A workload store key (`namespace/name`) as a queue key. */
const queueKey = (kind: WorkloadKind, storeKey: string): string => {
  const i = storeKey.indexOf('/');
  return workloadKey(kind, storeKey.slice(0, i), storeKey.slice(i + 1));
};

export interface EventMappingDeps {
  readonly stores: ReloadStores;
  readonly memory: ReloadMemory;
  /** The coalescing window of workloads without keelson.dev/debounce (--debounce). */
  readonly debounceMs: number;
  /** Whether a roll of this workload is being followed (then every status change matters). */
  readonly tracking: (key: string) => boolean;
  readonly now?: () => number;
}

export class ReloadEventMapping {
  constructor(private readonly deps: EventMappingDeps) {}

  private kinds(): WorkloadKind[] { return [...this.deps.stores.types.keys()]; }

  /** A ConfigMap or Secret event: the workloads it concerns, each after its own debounce. */
  configEvent(g: StoreGroup, e: StoreEvent<ConfigRecord>): Enqueue[] {
    const r = e.record;
    const contentChanged = e.type !== 'update' || e.old.digest !== r.digest;
    if (!contentChanged && JSON.stringify(e.type === 'update' ? e.old.annotations : {}) === JSON.stringify(r.annotations)) return [];
    const { memory } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const out: Enqueue[] = [];
    for (const kind of this.kinds()) {
      const store = g.workloads[kind]!;
      const keys = new Set([...store.byIndex(CONFIG_INDEX, configIndexKey(r.namespace, r.kind, r.name)), ...store.byIndex(CONFIG_INDEX, configIndexKey(r.namespace, r.kind, '*'))]);
      for (const k of keys) {
        const w = store.get(k);
        if (!w) continue;
        const key = workloadKey(kind, w.namespace, w.name);
        const debounceMs = this.debounceOf(w);
        if (contentChanged) memory.observed(key, now, debounceMs);
        if (e.type === 'update' && e.old.digest !== r.digest) memory.noteChange(key, configId(r.kind, r.name));
        // Changes before a deletion say nothing about what a re-created config holds (the baseline keeps that).
        if (e.type === 'delete') memory.dropChange(key, configId(r.kind, r.name));
        out.push({ key, afterMs: debounceMs });
      }
    }
    return out;
  }

  /** A workload event: itself, unless nothing reload reads changed and no rollout of it is being followed. */
  workloadEvent(kind: WorkloadKind, e: StoreEvent<WorkloadRecord>): string | undefined {
    const key = workloadKey(kind, e.record.namespace, e.record.name);
    if (e.type === 'update' && e.old.sig === e.record.sig && !this.deps.tracking(key)) return undefined;
    return key;
  }

  /** A Namespace matched or left --namespace-selector: all its workloads. */
  namespaceEvent(e: StoreEvent<string>): string[] {
    const g = this.deps.stores.group(e.key);
    return this.kinds().flatMap((kind) => (g?.workloads[kind]?.byIndex(NAMESPACE_INDEX, e.key) ?? []).map((k) => queueKey(kind, k)));
  }

  /** Every cached workload: after a digest-key change, so baselines move to the new key while content is unchanged. */
  allWorkloads(): string[] {
    return this.deps.stores.groupsList().flatMap((g) => this.kinds().flatMap((kind) => [...g.workloads[kind]!.keys()].map((k) => queueKey(kind, k))));
  }

  private debounceOf(w: WorkloadRecord): number {
    const hit = firstOf(w.annotations, WORKLOAD.debounce);
    return (hit && parseDuration(hit[1])) ?? this.deps.debounceMs;
  }
}

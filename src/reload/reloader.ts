// The reload reconciler. Store events only enqueue workload keys (config events with the workload's debounce); a
// reconcile reads the cached records, computes the trigger set and asks decide() whether to record a baseline, roll
// or do nothing, then writes keelson-reload's fields with server-side apply, guarded by the workload's
// resourceVersion: a 409 rereads the workload and decides again, so a roll is never written twice.

import type { Options } from '../config/options.js';
import { parseDuration } from '../config/duration.js';
import { type KubeClient, isConflict, isForbidden } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import type { StoreEvent } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import type { ReconcileResult, WorkQueue } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { FIELD_MANAGER, LAST_RELOAD, OBSERVED, WORKLOAD, firstOf } from './annotations.js';
import { applyBody, envVarsFor, forgetBody, parseLastReload } from './apply-body.js';
import { type Decision, type Observed, type RecordWhy, type TriggerState, decide, parseObserved } from './decide.js';
import { type DigestForm, KEYED_PREFIX } from './digest.js';
import type { DigestKeys } from './digest-key.js';
import { TokenBucket } from './ratelimit.js';
import { CONFIG_INDEX, type ConfigRecord, NAMESPACE_INDEX, type WorkloadRecord, configIndexKey, currentConfigHash, workloadRecord } from './records.js';
import { type ConfigKind, configId } from './references.js';
import { type TriggerPolicy, describeProblem, hasPatterns, literalNames, parsePolicy, triggerReason } from './policy.js';
import { RolloutTracker, involvedWorkload } from './rollout-tracker.js';
import { type WorkloadKind, rolloutState } from '../kube/health.js';
import { type ReloadStores, type StoreGroup, WORKLOAD_KINDS, WORKLOAD_TYPES } from './stores.js';
import { inScope } from './scope.js';

const CONFIG_KINDS: readonly ConfigKind[] = ['ConfigMap', 'Secret'];
const MAX_CONFLICT_RETRIES = 3;
const FORBIDDEN_RETRY_MS = 5 * 60_000;
const MAX_EVENT_TEXT = 1000;

export interface ReloaderDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly options: Options['reload'];
  readonly stores: ReloadStores;
  /** The keys of the published digests; undefined until loaded (reconciles wait for it). */
  readonly digestKeys: { keys(): DigestKeys | undefined };
  readonly now?: () => number;
}

const RECORD_LOG: Readonly<Record<RecordWhy, string>> = {
  'first-sight': 'baseline recorded without a roll (first sight)',
  'baseline-update': 'baseline updated without a roll',
  upgrade: 'baseline in the plain (unkeyed) form re-recorded keyed, without a roll',
  'key-change': 'baseline re-recorded under the new digest key, without a roll',
  'unknown-key': 'baseline under a digest key Keelson no longer has: re-recorded under the current key without comparing, without a roll',
};

export const workloadKey = (kind: WorkloadKind, namespace: string, name: string): string => `${kind}:${namespace}/${name}`;

export function parseWorkloadKey(key: string): { kind: WorkloadKind; namespace: string; name: string } {
  const colon = key.indexOf(':');
  const slash = key.indexOf('/', colon);
  return { kind: key.slice(0, colon) as WorkloadKind, namespace: key.slice(colon + 1, slash), name: key.slice(slash + 1) };
}

export class Reloader {
  private queue: WorkQueue | undefined;
  /** When a content change that concerns the workload was first observed: opens its debounce window, starts latency. */
  private readonly pending = new Map<string, number>();
  private readonly warned = new Map<string, string>();
  private readonly seen = new Set<string>();
  /** Rate-limit slots reserved by workloads waiting to roll (absolute times). */
  private readonly slots = new Map<string, number>();
  /** Workloads whose roll write just met a 409: the retry has passed debounce and rate limit already. */
  private readonly conflictedRolls = new Set<string>();
  private readonly bucket: TokenBucket;
  readonly tracker: RolloutTracker;

  constructor(private readonly deps: ReloaderDeps) {
    this.bucket = new TokenBucket(deps.options.maxRollsPerSecond, this.now());
    this.tracker = new RolloutTracker({ events: deps.events, metrics: deps.metrics, logger: deps.logger, timeoutMs: deps.options.rolloutTimeoutMs, now: deps.now });
  }

  private now(): number { return (this.deps.now ?? Date.now)(); }

  get stores(): ReloadStores { return this.deps.stores; }

  /** Connects store events to the queue. */
  attach(queue: WorkQueue): void {
    this.queue = queue;
    const { stores } = this.deps;
    for (const g of stores.groupsList()) {
      for (const kind of CONFIG_KINDS) g.configs[kind].onChange((e) => this.onConfig(g, e));
      for (const kind of WORKLOAD_KINDS) g.workloads[kind].onChange((e) => this.onWorkload(kind, e));
    }
    stores.namespaces?.onChange((e) => {
      const g = stores.group(e.key);
      for (const kind of WORKLOAD_KINDS) for (const k of g?.workloads[kind].byIndex(NAMESPACE_INDEX, e.key) ?? []) this.enqueue(kind, k);
    });
  }

  /** Every cached workload: after a digest-key change, so baselines move to the new key while content is unchanged. */
  enqueueAll(): void {
    for (const g of this.deps.stores.groupsList()) for (const kind of WORKLOAD_KINDS) for (const k of g.workloads[kind].keys()) this.enqueue(kind, k);
  }

  private enqueue(kind: WorkloadKind, storeKey: string, afterMs = 0): void {
    const i = storeKey.indexOf('/');
    const key = workloadKey(kind, storeKey.slice(0, i), storeKey.slice(i + 1));
    if (afterMs > 0) this.queue?.addAfter(key, afterMs); else this.queue?.add(key);
  }

  private onConfig(g: StoreGroup, e: StoreEvent<ConfigRecord>): void {
    const r = e.record;
    const contentChanged = e.type !== 'update' || e.old.digest !== r.digest;
    if (!contentChanged && JSON.stringify(e.type === 'update' ? e.old.annotations : {}) === JSON.stringify(r.annotations)) return;
    const now = this.now();
    for (const kind of WORKLOAD_KINDS) {
      const store = g.workloads[kind];
      const keys = new Set([...store.byIndex(CONFIG_INDEX, configIndexKey(r.namespace, r.kind, r.name)), ...store.byIndex(CONFIG_INDEX, configIndexKey(r.namespace, r.kind, '*'))]);
      for (const k of keys) {
        const w = store.get(k);
        if (!w) continue;
        const key = workloadKey(kind, w.namespace, w.name);
        if (contentChanged && !this.pending.has(key)) this.pending.set(key, now);
        this.enqueue(kind, k, this.debounceOf(w));
      }
    }
  }

  private onWorkload(kind: WorkloadKind, e: StoreEvent<WorkloadRecord>): void {
    const key = workloadKey(kind, e.record.namespace, e.record.name);
    if (e.type === 'update' && e.old.sig === e.record.sig && !this.tracker.has(key)) return;
    this.queue?.add(key);
  }

  private debounceOf(w: WorkloadRecord): number {
    const hit = firstOf(w.annotations, WORKLOAD.debounce);
    return (hit && parseDuration(hit[1])) ?? this.deps.options.debounceMs;
  }

  private forgetKey(key: string): void {
    this.pending.delete(key);
    this.warned.delete(key);
    this.seen.delete(key);
    this.slots.delete(key);
    this.conflictedRolls.delete(key);
    this.tracker.forget(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { kind, namespace, name } = parseWorkloadKey(key);
    const { stores, options, client } = this.deps;
    const g = stores.group(namespace);
    if (!g) return;
    if (!stores.synced(g) || !this.deps.digestKeys.keys()) return { requeueAfterMs: 1000 };
    let w = g.workloads[kind].get(`${namespace}/${name}`);
    if (!w || !inScope(namespace, options, stores.selected())) { this.forgetKey(key); return; }
    this.resumeTracking(key, w);
    const trackingMs = await this.tracker.step(key, w);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.converge(key, w, g, this.conflictedRolls.delete(key));
        return earliest(trackingMs, r?.requeueAfterMs);
      } catch (err) {
        if (isConflict(err) && attempt < MAX_CONFLICT_RETRIES) {
          this.deps.logger.debug({ workload: `${kind} ${namespace}/${name}` }, 'workload changed while writing (409); deciding again from a fresh read');
          const fresh = await client.tryGet<KubeObject>(WORKLOAD_TYPES[kind], namespace, name);
          if (!fresh) return;
          w = workloadRecord(kind, fresh);
          continue;
        }
        if (isForbidden(err)) {
          this.deps.metrics.apiForbidden.inc({ resource: WORKLOAD_TYPES[kind].plural, namespace });
          this.deps.logger.error({ workload: `${kind} ${namespace}/${name}`, err: (err as Error).message },
            `not allowed to patch ${WORKLOAD_TYPES[kind].plural} in namespace ${namespace}: grant patch on ${WORKLOAD_TYPES[kind].plural} there to Keelson's ServiceAccount`);
          return { requeueAfterMs: FORBIDDEN_RETRY_MS };
        }
        throw err;
      }
    }
  }

  /** After a restart, keep following a roll whose rollout was still in progress (its generation is on the workload). */
  private resumeTracking(key: string, w: WorkloadRecord): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const last = parseLastReload(w.annotations[LAST_RELOAD]);
    const at = last ? Date.parse(last.at) : NaN;
    if (!last || last.generation !== w.rollout.generation || !(at + this.deps.options.rolloutTimeoutMs > this.now())) return;
    if (rolloutState(w.kind, w.rollout).state !== 'progressing') return;
    this.tracker.start(key, w, last.generation, last.trigger, at);
  }

  private async converge(key: string, w: WorkloadRecord, g: StoreGroup, retryingRoll: boolean): Promise<ReconcileResult | void> {
    const { options, logger } = this.deps;
    const ref = `${w.kind} ${w.namespace}/${w.name}`;
    const policy = parsePolicy(w.annotations, w.templateAnnotations, { autoReloadAll: options.autoReloadAll });
    await this.warnProblems(key, w, policy);
    const observed = parseObserved(w.annotations[OBSERVED]);
    const triggers = this.triggersOf(w, policy, g, observed);
    const keys = this.deps.digestKeys.keys();
    if (!keys) return { requeueAfterMs: 1000 };
    const d: Decision = decide({
      active: policy.active, selection: policy.selection, observed, triggers, reloadOnCreate: options.reloadOnCreate, reloadOnDelete: options.reloadOnDelete,
      form: keys.current, earlierForms: keys.earlier,
    });
    switch (d.action) {
      case 'none':
        this.pending.delete(key);
        this.slots.delete(key);
        return;
      case 'forget':
        await this.deps.client.patch(WORKLOAD_TYPES[w.kind], w.namespace, w.name, 'merge', forgetBody(w), { fieldManager: FIELD_MANAGER });
        this.pending.delete(key);
        logger.info({ workload: ref }, 'no longer a reload target: baseline removed');
        return;
      case 'record':
        await this.write(w, applyBody(w, { observed: d.observed }));
        this.pending.delete(key);
        this.slots.delete(key);
        logger.info({ workload: ref, why: d.why, triggers: triggers.length, hash: hashPrefix(d.observed.hash) }, RECORD_LOG[d.why]);
        return;
      case 'roll':
        return await this.roll(key, w, policy, d, triggers, retryingRoll, keys.current);
    }
  }

  private async roll(key: string, w: WorkloadRecord, policy: TriggerPolicy, d: Extract<Decision, { action: 'roll' }>, triggers: readonly TriggerState[], retryingRoll: boolean, form: DigestForm): Promise<ReconcileResult | void> {
    const { options, logger, metrics, events } = this.deps;
    const ref = `${w.kind} ${w.namespace}/${w.name}`;
    const now = this.now();
    const since = this.pending.get(key) ?? now;
    this.pending.set(key, since);
    if (!retryingRoll) {
      const debounceLeft = since + (policy.debounceMs ?? options.debounceMs) - now;
      if (debounceLeft > 0) return { requeueAfterMs: debounceLeft };
      let slot = this.slots.get(key);
      if (slot === undefined) {
        slot = now + this.bucket.reserve(now);
        this.slots.set(key, slot);
        if (slot > now) logger.debug({ workload: ref, waitMs: slot - now }, 'roll delayed by --max-rolls-per-second');
      }
      if (slot > now) return { requeueAfterMs: slot - now };
    }
    this.slots.delete(key);
    const cause = d.causes[0]!;
    const causeTrigger = triggers.find((t) => t.id === cause.id)!;
    const trigger = `${causeTrigger.kind} ${w.namespace}/${causeTrigger.name}`;
    const previous = currentConfigHash(w) ?? d.previousHash;
    const lastReload = { at: new Date(now).toISOString(), trigger, change: cause.change, hash: d.observed.hash, generation: w.rollout.generation + 1 };
    // Published values are keyed; the plain content digests never leave the process.
    const present = triggers.filter((t) => t.digest !== undefined).map((t) => ({ kind: t.kind, name: t.name, digest: form.config(t.digest!) }));
    const roll = options.strategy === 'annotations'
      ? { lastReload, configHash: d.observed.hash }
      : { lastReload, env: envVarsFor(w, present) };
    let res: KubeObject;
    try {
      res = await this.write(w, applyBody(w, { observed: d.observed, roll }));
    } catch (err) {
      if (isConflict(err)) this.conflictedRolls.add(key);
      else metrics.reloadsTotal.inc({ kind: w.kind, result: isForbidden(err) ? 'forbidden' : 'error' });
      throw err;
    }
    this.pending.delete(key);
    const generation = res.metadata.generation ?? 0;
    const more = d.causes.length > 1 ? ` (and ${d.causes.length - 1} more)` : '';
    if (generation <= w.rollout.generation) {
      logger.info({ workload: ref, trigger, change: cause.change }, 'pod template already carries this content; baseline updated, nothing to roll');
      return;
    }
    metrics.reloadsTotal.inc({ kind: w.kind, result: 'rolled' });
    metrics.reloadLatency.observe(Math.max(0, this.now() - since) / 1000);
    logger.info({ workload: ref, trigger, change: cause.change, causes: d.causes.length, from: hashPrefix(previous), to: hashPrefix(d.observed.hash), strategy: options.strategy, generation }, 'rolled');
    await events.record(involvedWorkload(w), 'Normal', 'Reloaded',
      `${trigger} ${cause.change}${more}: config hash ${hashPrefix(previous)} → ${hashPrefix(d.observed.hash)}; rolling (${options.strategy})`);
    this.tracker.start(key, w, generation, trigger);
    return { requeueAfterMs: options.rolloutTimeoutMs };
  }

  private write(w: WorkloadRecord, body: Record<string, unknown>): Promise<KubeObject> {
    return this.deps.client.apply(WORKLOAD_TYPES[w.kind], body as KubeObject, { fieldManager: FIELD_MANAGER, force: true });
  }

  /** One Warning event per workload and set of problems (not one per reconcile). */
  private async warnProblems(key: string, w: WorkloadRecord, policy: TriggerPolicy): Promise<void> {
    if (policy.problems.length === 0) { this.warned.delete(key); return; }
    const all = policy.problems.map(describeProblem).join(' ');
    // 64 rejected entries of 253 characters would make a 20 KB event: the first ones say what to fix.
    const text = all.length > MAX_EVENT_TEXT ? `${all.slice(0, MAX_EVENT_TEXT)}... (${policy.problems.length} problems)` : all;
    if (this.warned.get(key) === `${w.uid}|${text}`) return;
    this.warned.set(key, `${w.uid}|${text}`);
    this.deps.logger.warn({ workload: `${w.kind} ${w.namespace}/${w.name}`, problems: policy.problems }, 'invalid reload annotation; using the default');
    await this.deps.events.record(involvedWorkload(w), 'Warning', 'InvalidAnnotation', text);
  }

  /** The configs that trigger this workload now, present or not, from the caches. */
  private triggersOf(w: WorkloadRecord, policy: TriggerPolicy, g: StoreGroup, observed: Observed | undefined): TriggerState[] {
    const ns = w.namespace;
    const candidates = new Map<string, { kind: ConfigKind; name: string; referenced: boolean }>();
    const add = (kind: ConfigKind, name: string, referenced: boolean) => {
      const id = configId(kind, name);
      if (!candidates.has(id)) candidates.set(id, { kind, name, referenced });
    };
    for (const r of w.refs) add(r.kind, r.name, true);
    for (const kind of CONFIG_KINDS) {
      for (const n of literalNames(policy, kind)) add(kind, n, false);
      if (hasPatterns(policy, kind) || literalNames(policy, kind).some((n) => n.includes('.'))) {
        for (const k of g.configs[kind].byIndex(NAMESPACE_INDEX, ns)) { const c = g.configs[kind].get(k); if (c) add(kind, c.name, false); }
      }
    }
    for (const id of Object.keys(observed?.configs ?? {})) {
      const i = id.indexOf('/');
      const kind = id.slice(0, i);
      if (kind === 'ConfigMap' || kind === 'Secret') add(kind, id.slice(i + 1), false);
    }
    const out: TriggerState[] = [];
    for (const [id, c] of candidates) {
      const rec = g.configs[c.kind].get(`${ns}/${c.name}`);
      const reason = triggerReason(policy, { ...c, annotations: rec?.annotations, wasTrigger: observed?.configs[id] !== undefined });
      if (reason) out.push({ id, kind: c.kind, namespace: ns, name: c.name, digest: rec?.digest, named: reason === 'named' });
    }
    return out;
  }
}

/** The first 12 hex digits of a config hash, with its form prefix ("h1:") if any. */
const hashPrefix = (h: string): string => (h.startsWith(KEYED_PREFIX) ? h.slice(0, KEYED_PREFIX.length + 12) : h.slice(0, 12));

function earliest(a: number | undefined, b: number | undefined): ReconcileResult | void {
  const v = a === undefined ? b : b === undefined ? a : Math.min(a, b);
  return v === undefined ? undefined : { requeueAfterMs: v };
}

// The reload reconciler. Store events only enqueue workload keys (config events with the workload's debounce); a
// reconcile reads the cached records, computes the trigger set and asks decide() whether to record a baseline, roll
// or do nothing, then writes keelson-reload's fields with server-side apply, guarded by the workload's
// resourceVersion: a 409 rereads the workload and decides again, so a roll is never written twice. How a kind rolls
// (pod template, a Job from a CronJob, a Job re-created) comes from the table in workload-kinds.ts.

import type { Options } from '../config/options.js';
import { parseDuration } from '../config/duration.js';
import { ApiError, type KubeClient, isAlreadyExists, isConflict, isForbidden } from '../kube/client.js';
import type { InvolvedObject } from '../kube/events.js';
import { JOBS, type ResourceType } from '../kube/resources.js';
import type { EventRecorder } from '../kube/events.js';
import type { StoreEvent } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import type { ReconcileResult, WorkQueue } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { CONFIG_HASH, FIELD_MANAGER, LAST_RELOAD, OBSERVED, PAUSED_UNTIL, WORKLOAD, WRITTEN_KEYS, firstOf, hasTriggerAnnotation } from './annotations.js';
import { type LastReload, applyBody, envVarsFor, forgetBody, parseLastReload } from './apply-body.js';
import { type Decision, type Observed, type RecordWhy, type TriggerState, decide, formatObserved, isAbsent, parseObserved } from './decide.js';
import { type DigestForm, KEYED_PREFIX } from './digest.js';
import type { DigestKeys } from './digest-key.js';
import { TokenBucket } from './ratelimit.js';
import { CONFIG_INDEX, type ConfigRecord, NAMESPACE_INDEX, type WorkloadRecord, configIndexKey, currentConfigHash, workloadRecord } from './records.js';
import { type ConfigKind, configId } from './references.js';
import { type TriggerPolicy, describeProblem, hasPatterns, literalNames, parsePolicy, triggerReason } from './policy.js';
import { RolloutTracker, involvedWorkload } from './rollout-tracker.js';
import { rolloutState } from '../kube/health.js';
import type { ReloadStores, StoreGroup } from './stores.js';
import { KINDS, RECREATED_FROM, type WorkloadKind, derivedJobName, jobBaseName, jobFromCronJob, parsePausePeriod, recreatedJob } from './workload-kinds.js';
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
  /** False while this replica may no longer hold the leader Lease: no write then (absent: always true). */
  readonly leading?: () => boolean;
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
  /**
   * Per workload, the trigger ids whose content a watch update changed since its baseline was last written. The
   * baseline alone cannot tell "created" from "created, then changed" when both happen before a reconcile (one
   * debounce window); the second must roll. Cleared once a written baseline holds the config's content.
   */
  private readonly changedSinceBaseline = new Map<string, Set<string>>();
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
      for (const kind of CONFIG_KINDS) g.configs[kind]?.onChange((e) => this.onConfig(g, e));
      for (const kind of this.kinds()) g.workloads[kind]!.onChange((e) => this.onWorkload(kind, e));
    }
    stores.namespaces?.onChange((e) => {
      const g = stores.group(e.key);
      for (const kind of this.kinds()) for (const k of g?.workloads[kind]?.byIndex(NAMESPACE_INDEX, e.key) ?? []) this.enqueue(kind, k);
    });
  }

  /** Every cached workload: after a digest-key change, so baselines move to the new key while content is unchanged. */
  enqueueAll(): void {
    for (const g of this.deps.stores.groupsList()) for (const kind of this.kinds()) for (const k of g.workloads[kind]!.keys()) this.enqueue(kind, k);
  }

  /** The watched workload kinds. */
  private kinds(): WorkloadKind[] { return [...this.deps.stores.types.keys()]; }

  private typeOf(kind: WorkloadKind): ResourceType { return this.deps.stores.types.get(kind)!; }

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
    for (const kind of this.kinds()) {
      const store = g.workloads[kind]!;
      const keys = new Set([...store.byIndex(CONFIG_INDEX, configIndexKey(r.namespace, r.kind, r.name)), ...store.byIndex(CONFIG_INDEX, configIndexKey(r.namespace, r.kind, '*'))]);
      for (const k of keys) {
        const w = store.get(k);
        if (!w) continue;
        const key = workloadKey(kind, w.namespace, w.name);
        if (contentChanged && !this.pending.has(key)) this.pending.set(key, now);
        if (e.type === 'update' && e.old.digest !== r.digest) this.noteChange(key, configId(r.kind, r.name));
        // Changes before a deletion say nothing about what a re-created config holds (the baseline keeps that).
        if (e.type === 'delete') this.changedSinceBaseline.get(key)?.delete(configId(r.kind, r.name));
        this.enqueue(kind, k, this.debounceOf(w));
      }
    }
  }

  private onWorkload(kind: WorkloadKind, e: StoreEvent<WorkloadRecord>): void {
    const key = workloadKey(kind, e.record.namespace, e.record.name);
    if (e.type === 'update' && e.old.sig === e.record.sig && !this.tracker.has(key)) return;
    this.queue?.add(key);
  }

  private noteChange(key: string, id: string): void {
    let ids = this.changedSinceBaseline.get(key);
    if (!ids) this.changedSinceBaseline.set(key, (ids = new Set()));
    ids.add(id);
  }

  /** A baseline holding these contents is on the workload: changes noted for present configs are in it now. */
  private settleChanges(key: string, observed: Observed): void {
    const ids = this.changedSinceBaseline.get(key);
    if (!ids) return;
    for (const id of ids) if (observed.configs[id] !== undefined && !isAbsent(observed.configs[id]!)) ids.delete(id);
    if (ids.size === 0) this.changedSinceBaseline.delete(key);
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
    this.changedSinceBaseline.delete(key);
    this.tracker.forget(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { kind, namespace, name } = parseWorkloadKey(key);
    const { stores, options, client } = this.deps;
    const g = stores.group(namespace);
    if (!g) return;
    if (!stores.synced(g, kind) || !this.deps.digestKeys.keys()) return { requeueAfterMs: 1000 };
    let w = g.workloads[kind]?.get(`${namespace}/${name}`);
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
          const fresh = await client.tryGet<KubeObject>(this.typeOf(kind), namespace, name);
          if (!fresh) return;
          w = workloadRecord(kind, fresh, w.apiVersion);
          continue;
        }
        if (isForbidden(err)) {
          const plural = this.typeOf(kind).plural;
          const verbs = KINDS[kind].mode === 'template' ? 'patch' : KINDS[kind].mode === 'job-from-cronjob' ? 'patch (and create on jobs)' : 'patch, create and delete';
          this.deps.metrics.apiForbidden.inc({ resource: plural, namespace });
          this.deps.logger.error({ workload: `${kind} ${namespace}/${name}`, err: (err as Error).message },
            `not allowed to write ${plural} in namespace ${namespace}: grant ${verbs} on ${plural} there to Keelson's ServiceAccount`);
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
    if (!KINDS[w.kind].tracked) return;
    const last = parseLastReload(w.annotations[LAST_RELOAD]);
    const at = last ? Date.parse(last.at) : NaN;
    if (!last || last.generation !== w.rollout.generation || !(at + this.deps.options.rolloutTimeoutMs > this.now())) return;
    if (rolloutState(w.kind, w.rollout).state !== 'progressing') return;
    this.tracker.start(key, w, last.generation, last.trigger, at);
  }

  private async converge(key: string, w: WorkloadRecord, g: StoreGroup, retryingRoll: boolean): Promise<ReconcileResult | void> {
    const { options, logger } = this.deps;
    const ref = `${w.kind} ${w.namespace}/${w.name}`;
    if (w.deleting) return;
    const parsed = parsePolicy(w.annotations, w.templateAnnotations, { autoReloadAll: options.autoReloadAll && KINDS[w.kind].autoReloadAll });
    // A Job is re-created (run again) only when the Job itself asks for it, and a CronJob's runs never on their own.
    const policy = w.kind === 'Job' && (w.cronJobOwned || !hasTriggerAnnotation(w.annotations)) ? { ...parsed, active: false } : parsed;
    await this.warnProblems(key, w, policy);
    const observed = parseObserved(w.annotations[OBSERVED]);
    const pause = await this.resumeIfDue(w, observed);
    if (pause === 'resumed') return;
    const triggers = this.triggersOf(w, policy, g, observed, this.changedSinceBaseline.get(key));
    const keys = this.deps.digestKeys.keys();
    if (!keys) return { requeueAfterMs: 1000 };
    const d: Decision = decide({
      active: policy.active, selection: policy.selection, observed, triggers, reloadOnCreate: options.reloadOnCreate, reloadOnDelete: options.reloadOnDelete,
      form: keys.current, earlierForms: keys.earlier,
    });
    logger.debug({ workload: ref, action: d.action, ...decisionDetail(d), triggers: triggers.map((t) => `${t.id}${t.digest === undefined ? ' (absent)' : ''}${t.changedSinceCreated ? ' (changed)' : ''}`) }, 'reload decision');
    switch (d.action) {
      case 'none':
        if (observed) this.settleChanges(key, observed);
        this.pending.delete(key);
        this.slots.delete(key);
        return earliest(pause, undefined);
      case 'forget':
        await this.deps.client.patch(this.typeOf(w.kind), w.namespace, w.name, 'merge', forgetBody(w), { fieldManager: FIELD_MANAGER });
        this.pending.delete(key);
        this.changedSinceBaseline.delete(key);
        logger.info({ workload: ref }, 'no longer a reload target: baseline removed');
        return;
      case 'record':
        await this.write(w, applyBody(w, { observed: d.observed }));
        this.settleChanges(key, d.observed);
        this.pending.delete(key);
        this.slots.delete(key);
        logger.info({ workload: ref, why: d.why, triggers: triggers.length, hash: hashPrefix(d.observed.hash) }, RECORD_LOG[d.why]);
        return earliest(pause, undefined);
      case 'roll':
        return await this.roll(key, w, policy, d, triggers, retryingRoll, keys.current);
    }
  }

  /**
   * A Deployment rolled with a pause-period carries its resume time: once it has passed (also after a restart or a
   * failover, when the first reconcile sees it), keelson-reload gives up spec.paused and the time. Returns the ms
   * left, or 'resumed' after the write (whose store event brings the workload back).
   */
  private async resumeIfDue(w: WorkloadRecord, observed: Observed | undefined): Promise<number | 'resumed' | undefined> {
    const text = w.annotations[PAUSED_UNTIL];
    if (text === undefined) return undefined;
    const left = Date.parse(text) - this.now();
    if (left > 0) return left;
    const ref = `${w.kind} ${w.namespace}/${w.name}`;
    if (observed) await this.write(w, applyBody(w, { observed, resume: true }));
    else await this.deps.client.patch(this.typeOf(w.kind), w.namespace, w.name, 'merge', { metadata: { resourceVersion: w.resourceVersion, annotations: { [PAUSED_UNTIL]: null } }, spec: { paused: false } }, { fieldManager: FIELD_MANAGER });
    this.deps.logger.info({ workload: ref, pausedUntil: text }, 'pause-period over: rollout resumed');
    await this.deps.events.record(involvedWorkload(w), 'Normal', 'Resumed', `pause-period over (${text}): rollout resumed`);
    return 'resumed';
  }

  private pausePeriodOf(w: WorkloadRecord): number | undefined {
    if (w.kind !== 'Deployment') return undefined;
    const hit = firstOf(w.annotations, WORKLOAD.pausePeriod);
    if (!hit) return undefined;
    const ms = parsePausePeriod(hit[1]);
    if (ms === undefined) this.deps.logger.warn({ workload: `${w.kind} ${w.namespace}/${w.name}`, annotation: hit[0], value: hit[1].slice(0, 64) }, 'invalid pause-period (expected a duration from 1s to 168h, such as 5m): rolling without a pause');
    return ms;
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
    const lastReload: LastReload = { at: new Date(now).toISOString(), trigger, change: cause.change, hash: d.observed.hash, generation: w.rollout.generation + 1 };
    const more = d.causes.length > 1 ? ` (and ${d.causes.length - 1} more)` : '';
    const change = `${trigger} ${cause.change}${more}: config hash ${hashPrefix(previous)} → ${hashPrefix(d.observed.hash)}`;
    const counted = { kind: w.kind, namespace: w.namespace };
    let done: { generation: number; how: string; involved: InvolvedObject } | undefined;
    try {
      switch (KINDS[w.kind].mode) {
        case 'template': done = await this.rollTemplate(w, d, triggers, lastReload, form); break;
        case 'job-from-cronjob': done = await this.jobFromCronJob(w, d, lastReload); break;
        case 'recreate-job': done = await this.recreateJob(w, d, lastReload); break;
      }
    } catch (err) {
      if (isConflict(err)) this.conflictedRolls.add(key);
      else metrics.reloadsTotal.inc({ ...counted, result: isForbidden(err) ? 'forbidden' : 'error' });
      throw err;
    }
    this.settleChanges(key, d.observed);
    this.pending.delete(key);
    if (!done) {
      logger.info({ workload: ref, trigger, change: cause.change }, 'pod template already carries this content; baseline updated, nothing to roll');
      return;
    }
    metrics.reloadsTotal.inc({ ...counted, result: 'rolled' });
    metrics.reloadLatency.observe(Math.max(0, this.now() - since) / 1000);
    logger.info({ workload: ref, trigger, change: cause.change, causes: d.causes.length, from: hashPrefix(previous), to: hashPrefix(d.observed.hash), how: done.how, generation: done.generation }, 'rolled');
    await events.record(done.involved, 'Normal', 'Reloaded', `${change}; ${done.how}`);
    if (!KINDS[w.kind].tracked) return;
    this.tracker.start(key, w, done.generation, trigger);
    return { requeueAfterMs: options.rolloutTimeoutMs };
  }

  /** Deployments, StatefulSets, DaemonSets, Rollouts: keelson-reload's fields in the pod template (or spec.restartAt). */
  private async rollTemplate(w: WorkloadRecord, d: Extract<Decision, { action: 'roll' }>, triggers: readonly TriggerState[], lastReload: LastReload, form: DigestForm) {
    const { options } = this.deps;
    const restart = w.kind === 'Rollout' && firstOf(w.annotations, WORKLOAD.rolloutStrategy)?.[1].trim().toLowerCase() === 'restart';
    const pauseMs = w.annotations[PAUSED_UNTIL] === undefined ? this.pausePeriodOf(w) : undefined;
    const pausedUntil = pauseMs === undefined ? undefined : new Date(this.now() + pauseMs).toISOString();
    // Published values are keyed; the plain content digests never leave the process.
    const present = triggers.filter((t) => t.digest !== undefined).map((t) => ({ kind: t.kind, name: t.name, digest: form.config(t.digest!) }));
    // A Rollout's pod template may have no schema (its containers list would be atomic): only the annotation is safe.
    const roll = restart
      ? { lastReload, restartAt: lastReload.at }
      : options.strategy === 'annotations' || w.kind === 'Rollout'
        ? { lastReload, configHash: d.observed.hash, pausedUntil }
        : { lastReload, env: envVarsFor(w, present), pausedUntil };
    const res = await this.write(w, applyBody(w, { observed: d.observed, roll }));
    const generation = res.metadata.generation ?? 0;
    if (generation <= w.rollout.generation) return undefined;
    const how = restart ? 'spec.restartAt set (rollout-strategy restart)' : `rolling (${options.strategy === 'annotations' || w.kind === 'Rollout' ? 'annotations' : options.strategy})`;
    return { generation, how: pausedUntil ? `${how}, paused until ${pausedUntil} (pause-period)` : how, involved: involvedWorkload(w) };
  }

  /**
   * CronJob: a Job from its jobTemplate. The name comes from the CronJob's uid, the roll's sequence number and the
   * config hash, so a restart (the baseline not yet written) or a second replica creates the same name, and the
   * second create meets AlreadyExists: it is done. Then the baseline (with the next sequence number) is written.
   */
  private async jobFromCronJob(w: WorkloadRecord, d: Extract<Decision, { action: 'roll' }>, base: LastReload) {
    const { client } = this.deps;
    const cronJob = await client.get<KubeObject>(this.typeOf('CronJob'), w.namespace, w.name);
    if (cronJob.metadata.uid !== w.uid) throw new ApiError(409, 'Conflict', `CronJob ${w.namespace}/${w.name} was replaced`);
    const seq = (parseLastReload(w.annotations[LAST_RELOAD])?.seq ?? 0) + 1;
    const name = derivedJobName(w.name, `${w.uid}/${seq}/${d.observed.hash}`);
    const job = jobFromCronJob(cronJob, w.apiVersion, { name, annotations: {}, templateAnnotations: { [CONFIG_HASH]: d.observed.hash } });
    let created: KubeObject;
    try {
      created = await client.create<KubeObject>(JOBS, job);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<KubeObject>(JOBS, w.namespace, name);
      if (!existing.metadata.ownerReferences?.some((o) => o.uid === w.uid)) throw new Error(`cannot create Job ${w.namespace}/${name} from CronJob ${w.namespace}/${w.name}: a Job of that name not owned by it exists`);
      created = existing;
    }
    await this.write(w, applyBody(w, { observed: d.observed, roll: { lastReload: { ...base, generation: undefined, seq, job: name } } }));
    return { generation: 0, how: `created Job ${w.namespace}/${name} (uid ${created.metadata.uid ?? '?'})`, involved: involvedWorkload(w) };
  }

  /**
   * Job: re-created under a name derived from the old Job's uid and the config hash, created FIRST and the old
   * Job deleted after (uid precondition, Background propagation). A crash between the two leaves both: the next
   * reconcile of the old Job derives the same name, meets AlreadyExists and deletes the old Job. The reverse order
   * (delete, then create under the same name) would lose the Job to a crash in between.
   */
  private async recreateJob(w: WorkloadRecord, d: Extract<Decision, { action: 'roll' }>, base: LastReload) {
    const { client } = this.deps;
    const old = await client.get<KubeObject>(JOBS, w.namespace, w.name);
    if (old.metadata.uid !== w.uid || old.metadata.deletionTimestamp) throw new ApiError(409, 'Conflict', `Job ${w.namespace}/${w.name} changed`);
    const name = derivedJobName(jobBaseName(old), `${w.uid}/${d.observed.hash}`);
    const lastReload = { ...base, generation: undefined };
    const annotations = { [OBSERVED]: formatObserved(d.observed), [LAST_RELOAD]: JSON.stringify(lastReload) };
    const job = recreatedJob(old, { name, annotations, templateAnnotations: { [CONFIG_HASH]: d.observed.hash } }, WRITTEN_KEYS);
    let created: KubeObject;
    try {
      created = await client.create<KubeObject>(JOBS, job);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<KubeObject>(JOBS, w.namespace, name);
      if (existing.metadata.annotations?.[RECREATED_FROM] !== w.uid) throw new Error(`cannot re-create Job ${w.namespace}/${w.name} as ${name}: a Job of that name not made from it exists`);
      created = existing;
    }
    await client.delete(JOBS, w.namespace, w.name, { propagationPolicy: 'Background', uid: w.uid });
    return {
      generation: 0, how: `re-created as Job ${w.namespace}/${name} (the old Job is deleted)`,
      involved: { apiVersion: 'batch/v1', kind: 'Job', namespace: w.namespace, name, uid: created.metadata.uid ?? '' },
    };
  }

  private write(w: WorkloadRecord, body: Record<string, unknown>): Promise<KubeObject> {
    // Checked at the last moment: a reconcile that began before the process was paused must not write after it.
    if (this.deps.leading && !this.deps.leading()) return Promise.reject(new Error(`not writing ${w.kind} ${w.namespace}/${w.name}: the leader Lease was not renewed in time (it may be another replica's now)`));
    return this.deps.client.apply(this.typeOf(w.kind), body as KubeObject, { fieldManager: FIELD_MANAGER, force: true });
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
  private triggersOf(w: WorkloadRecord, policy: TriggerPolicy, g: StoreGroup, observed: Observed | undefined, changed: ReadonlySet<string> | undefined): TriggerState[] {
    const ns = w.namespace;
    const candidates = new Map<string, { kind: ConfigKind; name: string; referenced: boolean }>();
    const add = (kind: ConfigKind, name: string, referenced: boolean) => {
      const id = configId(kind, name);
      if (!candidates.has(id)) candidates.set(id, { kind, name, referenced });
    };
    for (const r of w.refs) add(r.kind, r.name, true);
    for (const kind of CONFIG_KINDS) {
      const store = g.configs[kind];
      if (!store) continue;
      for (const n of literalNames(policy, kind)) add(kind, n, false);
      if (hasPatterns(policy, kind) || literalNames(policy, kind).some((n) => n.includes('.'))) {
        for (const k of store.byIndex(NAMESPACE_INDEX, ns)) { const c = store.get(k); if (c) add(kind, c.name, false); }
      }
    }
    for (const id of Object.keys(observed?.configs ?? {})) {
      const i = id.indexOf('/');
      const kind = id.slice(0, i);
      if (kind === 'ConfigMap' || kind === 'Secret') add(kind, id.slice(i + 1), false);
    }
    const out: TriggerState[] = [];
    for (const [id, c] of candidates) {
      // --resources-to-ignore: that kind is not watched and never triggers.
      const store = g.configs[c.kind];
      if (!store) continue;
      const rec = store.get(`${ns}/${c.name}`);
      const reason = triggerReason(policy, { ...c, annotations: rec?.annotations, wasTrigger: observed?.configs[id] !== undefined });
      if (reason) out.push({ id, kind: c.kind, namespace: ns, name: c.name, digest: rec?.digest, named: reason === 'named', changedSinceCreated: changed?.has(id) ?? false });
    }
    return out;
  }
}

/** The first 12 hex digits of a config hash, with its form prefix ("h1:") if any. */
const hashPrefix = (h: string): string => (h.startsWith(KEYED_PREFIX) ? h.slice(0, KEYED_PREFIX.length + 12) : h.slice(0, 12));

/** What a decision log line says beyond its action: why a baseline is recorded, what rolls. Never a digest of a value. */
function decisionDetail(d: Decision): Record<string, unknown> {
  if (d.action === 'record') return { why: d.why };
  if (d.action === 'roll') return { causes: d.causes.map((c) => `${c.id} ${c.change}`) };
  return {};
}

function earliest(a: number | undefined, b: number | undefined): ReconcileResult | void {
  const v = a === undefined ? b : b === undefined ? a : Math.min(a, b);
  return v === undefined ? undefined : { requeueAfterMs: v };
}

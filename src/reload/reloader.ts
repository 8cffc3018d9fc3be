// The reload reconciler. Store events only enqueue workload keys (event-mapping.ts); a reconcile reads the cached
// records, computes the trigger set and asks decide() whether to record a baseline, roll or do nothing, then writes
// keelson-reload's fields with server-side apply, guarded by the workload's resourceVersion: a 409 rereads the
// workload and decides again, so a roll is never written twice. How a kind rolls comes from the table in
// workload-kinds.ts: the pod template here, the Job kinds in job-rolls.ts; per-key memory is in memory.ts.

import type { Options } from '../config/options.js';
import { type KubeClient, isConflict, isForbidden } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';
import type { EventRecorder } from '../kube/events.js';
import type { KubeObject } from '../kube/types.js';
import type { ReconcileResult } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { FIELD_MANAGER, LAST_RELOAD, OBSERVED, PAUSED_UNTIL, WORKLOAD, firstOf, hasTriggerAnnotation } from './annotations.js';
import { parseWorkloadKey } from './event-mapping.js';
import { type JobRollDeps, type RollDone, rollCronJob, rollJob } from './job-rolls.js';
import type { ReloadMemory } from './memory.js';
import { type LastReload, applyBody, envVarsFor, forgetBody, parseLastReload } from './apply-body.js';
import { type Decision, type Observed, type RecordWhy, type TriggerState, decide, parseObserved } from './decide.js';
import { type DigestForm, KEYED_PREFIX } from './digest.js';
import type { DigestKeys } from './digest-key.js';
import { TokenBucket } from './ratelimit.js';
import { NAMESPACE_INDEX, type WorkloadRecord, currentConfigHash, workloadRecord } from './records.js';
import { type ConfigKind, configId } from './references.js';
import { type TriggerPolicy, describeProblem, hasPatterns, literalNames, parsePolicy, triggerReason } from './policy.js';
import { RolloutTracker, involvedWorkload } from './rollout-tracker.js';
import { rolloutState } from '../kube/health.js';
import type { ReloadStores, StoreGroup } from './stores.js';
import { KINDS, type WorkloadKind, parsePausePeriod } from './workload-kinds.js';
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
  /** What is remembered per workload between reconciles (shared with the event mapping). */
  readonly memory: ReloadMemory;
  readonly now?: () => number;
}

const RECORD_LOG: Readonly<Record<RecordWhy, string>> = {
  'first-sight': 'baseline recorded without a roll (first sight)',
  'baseline-update': 'baseline updated without a roll',
  upgrade: 'baseline in the plain (unkeyed) form re-recorded keyed, without a roll',
  'key-change': 'baseline re-recorded under the new digest key, without a roll',
  'unknown-key': 'baseline under a digest key Keelson no longer has: re-recorded under the current key without comparing, without a roll',
};

export class Reloader {
  /**
   * When a write last passed the Lease fence. Logged as `sentAt` with each write: a line printed just after a pause
   * ends may be the answer to a request sent before it, while the Lease was still this replica's (the soak's check
   * tells the two apart with it). No write passes the fence after the Lease is lost, so this never runs ahead.
   */
  private lastFencePassed = 0;
  private readonly bucket: TokenBucket;
  readonly tracker: RolloutTracker;

  constructor(private readonly deps: ReloaderDeps) {
    this.bucket = new TokenBucket(deps.options.maxRollsPerSecond, this.now());
    this.tracker = new RolloutTracker({ events: deps.events, metrics: deps.metrics, logger: deps.logger, timeoutMs: deps.options.rolloutTimeoutMs, now: deps.now });
  }

  private now(): number { return (this.deps.now ?? Date.now)(); }

  private get memory(): ReloadMemory { return this.deps.memory; }

  get stores(): ReloadStores { return this.deps.stores; }

  private typeOf(kind: WorkloadKind): ResourceType { return this.deps.stores.types.get(kind)!; }

  private forgetKey(key: string): void {
    this.memory.forget(key);
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
        const r = await this.converge(key, w, g, this.memory.takeRetryingRoll(key));
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
    if (!this.memory.firstSight(key)) return;
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
    const triggers = this.triggersOf(w, policy, g, observed, this.memory.changes(key));
    const keys = this.deps.digestKeys.keys();
    if (!keys) return { requeueAfterMs: 1000 };
    const d: Decision = decide({
      active: policy.active, selection: policy.selection, observed, triggers, reloadOnCreate: options.reloadOnCreate, reloadOnDelete: options.reloadOnDelete,
      form: keys.current, earlierForms: keys.earlier,
    });
    logger.debug({ workload: ref, action: d.action, ...decisionDetail(d), triggers: triggers.map((t) => `${t.id}${t.digest === undefined ? ' (absent)' : ''}${t.changedSinceCreated ? ' (changed)' : ''}`) }, 'reload decision');
    switch (d.action) {
      case 'none':
        if (observed) this.memory.settleChanges(key, observed);
        this.memory.settled(key);
        return earliest(pause, undefined);
      case 'forget':
        await this.deps.client.patch(this.typeOf(w.kind), w.namespace, w.name, 'merge', forgetBody(w), { fieldManager: FIELD_MANAGER });
        this.memory.clearSince(key);
        this.memory.clearChanges(key);
        logger.info({ workload: ref }, 'no longer a reload target: baseline removed');
        return;
      case 'record':
        await this.write(w, applyBody(w, { observed: d.observed }));
        this.memory.settleChanges(key, d.observed);
        this.memory.settled(key);
        logger.info({ workload: ref, why: d.why, triggers: triggers.length, hash: hashPrefix(d.observed.hash), sentAt: new Date(this.lastFencePassed).toISOString() }, RECORD_LOG[d.why]);
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
    const since = this.memory.since(key, now);
    if (!retryingRoll) {
      const debounceLeft = since + (policy.debounceMs ?? options.debounceMs) - now;
      if (debounceLeft > 0) return { requeueAfterMs: debounceLeft };
      const slot = this.memory.slot(key, () => now + this.bucket.reserve(now));
      if (slot.fresh && slot.at > now) logger.debug({ workload: ref, waitMs: slot.at - now }, 'roll delayed by --max-rolls-per-second');
      if (slot.at > now) return { requeueAfterMs: slot.at - now };
    }
    this.memory.releaseSlot(key);
    const cause = d.causes[0]!;
    const causeTrigger = triggers.find((t) => t.id === cause.id)!;
    const trigger = `${causeTrigger.kind} ${w.namespace}/${causeTrigger.name}`;
    const previous = currentConfigHash(w) ?? d.previousHash;
    const lastReload: LastReload = { at: new Date(now).toISOString(), trigger, change: cause.change, hash: d.observed.hash, generation: w.rollout.generation + 1 };
    const more = d.causes.length > 1 ? ` (and ${d.causes.length - 1} more)` : '';
    const change = `${trigger} ${cause.change}${more}: config hash ${hashPrefix(previous)} → ${hashPrefix(d.observed.hash)}`;
    const counted = { kind: w.kind, namespace: w.namespace };
    let done: RollDone | undefined;
    try {
      switch (KINDS[w.kind].mode) {
        case 'template': done = await this.rollTemplate(w, d, triggers, lastReload, form); break;
        case 'job-from-cronjob': done = await rollCronJob(this.jobDeps(), w, d, lastReload); break;
        case 'recreate-job': done = await rollJob(this.jobDeps(), w, d, lastReload); break;
      }
    } catch (err) {
      if (isConflict(err)) this.memory.markRetryingRoll(key);
      else metrics.reloadsTotal.inc({ ...counted, result: isForbidden(err) ? 'forbidden' : 'error' });
      throw err;
    }
    this.memory.settleChanges(key, d.observed);
    this.memory.clearSince(key);
    if (!done) {
      logger.info({ workload: ref, trigger, change: cause.change }, 'pod template already carries this content; baseline updated, nothing to roll');
      return;
    }
    metrics.reloadsTotal.inc({ ...counted, result: 'rolled' });
    metrics.reloadLatency.observe(Math.max(0, this.now() - since) / 1000);
    logger.info({ workload: ref, trigger, change: cause.change, causes: d.causes.length, from: hashPrefix(previous), to: hashPrefix(d.observed.hash), how: done.how, generation: done.generation, sentAt: new Date(this.lastFencePassed).toISOString() }, 'rolled');
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

  private jobDeps(): JobRollDeps {
    return { client: this.deps.client, cronJobs: this.typeOf('CronJob'), write: (w, body) => this.write(w, body) };
  }

  private write(w: WorkloadRecord, body: Record<string, unknown>): Promise<KubeObject> {
    // Checked at the last moment: a reconcile that began before the process was paused must not write after it.
    if (this.deps.leading && !this.deps.leading()) return Promise.reject(new Error(`not writing ${w.kind} ${w.namespace}/${w.name}: the leader Lease was not renewed in time (it may be another replica's now)`));
    this.lastFencePassed = Date.now();
    return this.deps.client.apply(this.typeOf(w.kind), body as KubeObject, { fieldManager: FIELD_MANAGER, force: true });
  }

  /** One Warning event per workload and set of problems (not one per reconcile). */
  private async warnProblems(key: string, w: WorkloadRecord, policy: TriggerPolicy): Promise<void> {
    if (policy.problems.length === 0) { this.memory.alreadyWarned(key, undefined); return; }
    const all = policy.problems.map(describeProblem).join(' ');
    // 64 rejected entries of 253 characters would make a 20 KB event: the first ones say what to fix.
    const text = all.length > MAX_EVENT_TEXT ? `${all.slice(0, MAX_EVENT_TEXT)}... (${policy.problems.length} problems)` : all;
    if (this.memory.alreadyWarned(key, `${w.uid}|${text}`)) return;
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

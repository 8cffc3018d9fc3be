// The GitSync reconciler. One run: read the GitSync, resolve its ref, fetch and verify the commit, render and
// validate the whole revision (dry-run), then write what differs, prune what left Git, and record the outcome in
// status, Events and metrics. It always reads current state, so a restart or a duplicate trigger only repeats a
// no-op; the next poll is a requeue after the interval (with jitter). The revision's content is read, dry-run,
// written and pruned with the GitSync's identity (identity.ts), and so are the Secrets it names; the GitSync, status
// and Events use Keelson's own.

import { basename } from 'node:path';
import { type KubeClient, isForbidden, isNotFound } from '../kube/client.js';
import { type EventRecorder, involvedObjectOf } from '../kube/events.js';
import { GITSYNCS, splitKey } from '../kube/resources.js';
import { type ReconcileResult, TerminalError } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { VERSION } from '../version.js';
import { ApplyError, ForbiddenError, ValidationError, apiMessage, applyPlan, forbiddenMessage, planRevision } from './apply.js';
import type { Discovery } from './discovery.js';
import { removeStaleEntries } from './cache.js';
import { type OrderRecord, dependencyBlock } from './depends.js';
import { checksHealth, pendingWaitStart } from './health-wait.js';
import { healthStep } from './health-step.js';
import { GitError, type KeyedMutex, repoDirFor } from './git.js';
import { withApplied } from './history.js';
import { IgnoreRulesError } from './ignore.js';
import { BuildError } from './kustomize.js';
import { type Identity, type IdentityPolicy, identityFor, identityName } from './identity.js';
import { type RevisionLimits, RevisionTooLargeError } from './limits.js';
import { emptyRevisionBlocked, inventoryOf, pruneVerdict, staleEntries } from './prune.js';
import { redact } from './redact.js';
import { RefError } from './refs.js';
import { RenderError } from './render.js';
import { AppliedVersions } from './resync.js';
import type { GitSyncSnapshot } from './snapshot.js';
import { SecretForbiddenError, SecretRefError, TransportError } from './source.js';
import { type PipelineSource, renderPipeline } from './pipeline.js';
import { ALLOW_EMPTY, FINALIZER, type GitSyncObject, type GitSyncSpec, type GitSyncStatus, type InventoryEntry, REQUESTED_AT, SpecError, parseSpec } from './spec.js';
import { type Reason, outcomeConditions, readyCondition, statusDiffers, withJitter } from './status.js';
import { VerificationError } from './verify.js';
import { errorText } from '../kube/errors.js';

export interface SyncerDeps {
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly logger: Logger;
  readonly events: EventRecorder;
  readonly metrics: Metrics;
  readonly cacheDir: string;
  readonly mutex: KeyedMutex;
  /** Whose rights apply a GitSync's content: --controller-namespace and --default-service-account. */
  readonly identityPolicy: IdentityPolicy;
  /** --allow-insecure-git */
  readonly allowInsecureGit: boolean;
  /** --max-revision-bytes and --max-revision-objects */
  readonly limits: RevisionLimits;
  /** Other GitSyncs' order records (spec.dependsOn), from Keelson's cache. */
  readonly order: (key: string) => OrderRecord | undefined;
  /** --kustomize-path */
  readonly kustomizePath?: string;
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the controller's environment, for git (Options.gitsync.proxyEnv). */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** The store's latest copy of a GitSync (snapshot.ts), for the quick in-sync check; none: always GET. */
  readonly latest?: (key: string) => GitSyncSnapshot | undefined;
}

class EmptyRevisionError extends Error {}
class PruneError extends Error {}

/** The condition reason for a failure, and whether retrying can help without a change to the GitSync. */
export function classify(err: unknown): Reason {
  if (err instanceof ForbiddenError) return 'Forbidden';
  if (err instanceof TransportError) return 'InsecureTransport';
  if (err instanceof RevisionTooLargeError) return 'RevisionTooLarge';
  if (err instanceof VerificationError) return 'VerificationFailed';
  if (err instanceof BuildError) return 'BuildFailed';
  if (err instanceof RenderError || err instanceof ValidationError || err instanceof IgnoreRulesError) return 'ValidationFailed';
  if (err instanceof SecretForbiddenError) return 'SecretForbidden';
  if (err instanceof GitError || err instanceof RefError || err instanceof SecretRefError) return 'GitOperationFailed';
  if (err instanceof ApplyError) return 'ApplyFailed';
  if (err instanceof PruneError) return 'PruneFailed';
  if (err instanceof EmptyRevisionError) return 'EmptyRevision';
  return 'ReconciliationFailed';
}

export class GitSyncer {
  /** What the last sync of each GitSync left, so a no-op resync needs a LIST per kind, not a dry-run per object. */
  private readonly applied: AppliedVersions;

  constructor(private readonly deps: SyncerDeps) {
    this.applied = new AppliedVersions(deps.discovery, VERSION);
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const { client, logger } = this.deps;
    const { namespace, name } = splitKey(key);
    const ns = namespace!;
    const snapshot = this.deps.latest?.(key);
    if (snapshot) {
      const quick = await this.quickInSync(key, snapshot, signal);
      if (quick) return quick;
    }
    const obj = await client.tryGet<GitSyncObject>(GITSYNCS, ns, name);
    if (!obj) { await this.forget(ns, name); return; }
    if (obj.metadata.deletionTimestamp) { await this.finalize(obj, signal, logger.child({ gitsync: key })); return; }
    const status = obj.status ?? {};
    const generation = obj.metadata.generation;
    const requestedAt = obj.metadata.annotations?.[REQUESTED_AT];
    const log = logger.child({ gitsync: key });

    let spec: GitSyncSpec;
    try {
      spec = parseSpec(obj);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      await this.finish(obj, { ...status, observedGeneration: generation, lastHandledRequestedAt: requestedAt ?? status.lastHandledRequestedAt }, { ready: 'False', reason: 'InvalidSpec', message: `invalid spec: ${err.message}`, stalled: true }, log);
      throw new TerminalError(`GitSync ${key}: invalid spec: ${err.message}`); // a new generation enqueues it again
    }
    await this.setFinalizer(obj, spec.prune);
    if (spec.suspend) {
      log.debug('suspended; not syncing');
      if (status.observedGeneration !== generation) await this.writeStatus(obj, { observedGeneration: generation });
      return;
    }

    const base: GitSyncStatus = { observedGeneration: generation, lastHandledRequestedAt: requestedAt ?? status.lastHandledRequestedAt };
    const blocked = dependencyBlock({ namespace: ns, name }, spec.dependsOn, this.deps.order);
    if (blocked) {
      // Nothing is fetched or applied; a dependency's Ready change requeues this one (register.ts), the interval too.
      await this.finish(obj, base, { ready: 'False', reason: 'DependencyNotReady', message: blocked.message, stalled: blocked.cycle }, log);
      return { requeueAfterMs: withJitter(spec.intervalMs) };
    }
    const identity = identityFor({ namespace: ns, name, serviceAccountName: spec.serviceAccountName }, this.deps.identityPolicy);
    if (identity.kind === 'refused') {
      // Fail closed before any fetch: nothing of the repository is read, nothing written. A new generation (a
      // serviceAccountName) or a restart with --default-service-account brings it back.
      await this.finish(obj, base, { ready: 'False', reason: 'ServiceAccountRequired', message: identity.message, stalled: true }, log);
      this.deps.metrics.gitsyncRunsTotal.inc({ namespace: ns, name, result: 'failure' });
      throw new TerminalError(`GitSync ${key}: ${identity.message}`);
    }
    const content = this.contentClient(identity);
    const waitStart = checksHealth(spec) ? pendingWaitStart(status, generation, requestedAt) : undefined;
    if (waitStart !== undefined && status.lastAppliedRevision) return this.continueWait(obj, spec, base, content, identity, waitStart, signal, log);

    const started = Date.now();
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]);
    const owner = { namespace: ns, name };
    let revision: string | undefined;
    let requeueAfterMs = withJitter(spec.intervalMs);
    try {
      // A changed URL gets a new cache folder; the old one goes now rather than when the GitSync is deleted.
      await removeStaleEntries(this.deps.cacheDir, () => true, { namespace: ns, name, keep: basename(repoDirFor(this.deps.cacheDir, ns, name, spec.url)) });
      // The Secrets the GitSync names (credentials, proxy, trusted keys) are read with its identity too: they are sent
      // to the host the GitSync names, so Keelson's own rights would let a tenant exfiltrate any Secret of its namespace.
      const { git, pipeline } = this.pipelineFor(spec, owner, content, identity, timeout, (r) => { revision = r; });
      const source: PipelineSource = { kind: 'git', fetch: git };
      // The same commit as the last sync, which this controller remembers: one LIST per kind shows whether anything
      // moved; if nothing did, the sync is done without reading or rendering the revision (resync.ts). Those LISTs
      // start before ls-remote and run alongside it. With health checks, the objects are judged again, as after any apply.
      const ahead = this.applied.checkAhead(key, generation, identityName(identity), status.inventory, content, owner, timeout);
      let rev = await renderPipeline({ kind: 'git', fetch: { ...git, reuse: (r) => this.applied.reusable(key, r, generation, identityName(identity), status.inventory) } }, pipeline);
      if (rev.reused) {
        const check = await (ahead ?? this.applied.nothingMoved(key, content, owner, timeout));
        if (check.unchanged) {
          const health = checksHealth(spec)
            ? await healthStep({ client: content, discovery: this.deps.discovery, identity, spec, owner, inventory: status.inventory ?? [], revision: rev.revision, startedAtMs: Date.now(), nowMs: Date.now(), signal: timeout })
            : undefined;
          return this.inSync(obj, spec, base, rev.revision, check.listRequests, health, log, false);
        }
        rev = await renderPipeline(source, pipeline);
      }
      const objects = rev.objects;
      const inventory = inventoryOf(objects);
      const allowEmpty = obj.metadata.annotations?.[ALLOW_EMPTY] === 'true';
      if (emptyRevisionBlocked(objects.length, status.inventory, spec.prune, allowEmpty)) {
        throw new EmptyRevisionError(`revision ${rev.revision} has no objects under "${spec.path}"; refusing to prune all ${status.inventory!.length} objects. If that is intended, annotate the GitSync ${ALLOW_EMPTY}: "true"`);
      }
      const resync = await this.applied.prepare({ key, client: content, objects, owner, generation, identity: identityName(identity), revision: rev.revision, status, signal: timeout });
      const plan = await planRevision(content, this.deps.discovery, objects, timeout, identity, resync.shortcuts);
      const newRevision = rev.revision !== status.lastAppliedRevision;
      const changes = plan.filter((p) => p.action !== 'unchanged').length;
      if (changes > 0 && (newRevision || status.observedGeneration !== generation)) {
        // The request is handled only when the outcome is written: `keelson sync` must not take this for it.
        await this.writeStatus(obj, { ...base, lastHandledRequestedAt: status.lastHandledRequestedAt, lastAttemptedRevision: rev.revision, conditions: outcomeConditions(status.conditions, { ready: readyCondition(status)?.status ?? 'Unknown', reason: 'Progressing', message: `applying revision ${rev.revision}`, reconciling: true }, generation, new Date().toISOString()) });
      }
      const written = new Map<string, string>();
      const counts = await applyPlan(content, this.deps.discovery, plan, timeout, identity, (item, obj) => { if (obj.metadata.resourceVersion) written.set(item.desired.id, obj.metadata.resourceVersion); });
      const { deleted, keep } = spec.prune ? await this.prune(content, identity, status.inventory, inventory, owner, timeout, log) : { deleted: 0, keep: [] as InventoryEntry[] };
      const drifted = newRevision ? 0 : plan.filter((p) => p.action === 'update').length;
      const summary = `${counts.created} created, ${counts.configured} configured, ${counts.unchanged} unchanged, ${deleted} pruned`;
      const next: GitSyncStatus = {
        ...base, lastAppliedRevision: rev.revision, lastAttemptedRevision: rev.revision, drifted,
        inventory: [...inventory, ...keep].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        inventoryFingerprint: this.applied.commit(resync, plan, written),
        history: withApplied(status.history, { revision: rev.revision, message: rev.subject ?? '', appliedAt: new Date().toISOString(), objects: inventory.length, result: summary }),
      };
      const dryRuns = plan.filter((p) => p.dryRun !== undefined).length;
      const health = checksHealth(spec)
        ? await healthStep({ client: content, discovery: this.deps.discovery, identity, spec, owner, inventory: next.inventory, revision: rev.revision, startedAtMs: Date.now(), nowMs: Date.now(), signal: timeout })
        : undefined;
      await this.finish(obj, { ...next, ...health?.status }, health?.outcome ?? { ready: 'True', reason: 'ReconciliationSucceeded', message: `applied revision ${rev.revision}` }, log);
      if (health?.retryMs !== undefined) requeueAfterMs = health.retryMs;
      if (newRevision || counts.created + counts.configured + deleted > 0) {
        log.info({ revision: rev.revision, ...counts, pruned: deleted, drifted, as: identityName(identity), dryRuns, listRequests: resync.listRequests }, 'revision applied');
        void this.deps.events.record(involvedObjectOf(obj), 'Normal', drifted > 0 ? 'DriftCorrected' : 'Synced', `revision ${rev.revision}: ${summary}${drifted > 0 ? `; ${drifted} drifted objects re-applied` : ''}`);
      } else {
        log.debug({ revision: rev.revision, dryRuns, listRequests: resync.listRequests, restored: resync.restored }, 'in sync');
      }
      if (health?.outcome.ready === 'False') this.deps.metrics.gitsyncRunsTotal.inc({ namespace: ns, name, result: 'failure' });
      else this.succeeded(ns, name, drifted);
    } catch (err) {
      if (signal.aborted) throw err; // shutting down: leave status alone
      const reason = classify(err);
      const message = timeout.aborted
        ? `sync timed out after ${Math.round(spec.timeoutMs / 1000)}s (spec.timeout)${revision ? ` at revision ${revision}` : ''}`
        : redact(err instanceof Error ? (err.name === 'ApiError' ? apiMessage(err) : err.message) : String(err));
      // A refused transport stays refused until the spec or the controller's flags change: Stalled, like InvalidSpec.
      // A failed sync ends any health wait: the next reconcile must sync again, not go on judging the old revision.
      await this.finish(obj, { ...base, lastAttemptedRevision: revision ?? status.lastAttemptedRevision, healthCheckStartedAt: null }, { ready: 'False', reason, message, stalled: reason === 'InsecureTransport' }, log);
      this.deps.metrics.gitsyncRunsTotal.inc({ namespace: ns, name, result: 'failure' });
    } finally {
      this.deps.metrics.gitsyncDuration.observe({ namespace: ns, name }, (Date.now() - started) / 1000);
    }
    return { requeueAfterMs };
  }

  /**
   * The usual poll, answered from Keelson's cache instead of a GET of the GitSync: when the store's copy (with its
   * inventory as a digest, snapshot.ts) leaves nothing to do but check, and the check finds the same commit with
   * nothing moved (resync.ts: ls-remote and one LIST per kind, the same reads as the full path), the sync ends with
   * one status write. Anything else (a spec to report on, a finalizer to write, a dependency, health checks, a new
   * commit, a moved object, any error) returns undefined, and the full reconcile runs from a GET as before. The
   * copy is at least as new as the event that queued this key; what it holds only decides whether to look.
   * Measured: a GET of a GitSync with 1,000 inventory entries costs the API server about 10 ms of CPU.
   */
  private async quickInSync(key: string, snapshot: GitSyncSnapshot, signal: AbortSignal): Promise<ReconcileResult | undefined> {
    const obj: GitSyncObject = { ...snapshot.obj, metadata: { ...snapshot.obj.metadata }, status: { ...snapshot.obj.status } };
    if (obj.metadata.deletionTimestamp) return undefined;
    let spec: GitSyncSpec;
    try { spec = parseSpec(obj); } catch { return undefined; }
    const owner = { namespace: obj.metadata.namespace!, name: obj.metadata.name! };
    if (spec.suspend || checksHealth(spec) || (obj.metadata.finalizers ?? []).includes(FINALIZER) !== spec.prune) return undefined;
    if (dependencyBlock(owner, spec.dependsOn, this.deps.order)) return undefined;
    const identity = identityFor({ ...owner, serviceAccountName: spec.serviceAccountName }, this.deps.identityPolicy);
    if (identity.kind === 'refused') return undefined;
    const generation = obj.metadata.generation;
    const content = this.contentClient(identity);
    const started = Date.now();
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]);
    const lists = new AbortController(); // a new commit makes the LISTs moot: they are cancelled
    const ahead = this.applied.checkAhead(key, generation, identityName(identity), snapshot.inventory, content, owner, AbortSignal.any([timeout, lists.signal]));
    if (!ahead) return undefined;
    let revision: string;
    let listRequests: number;
    try {
      const { git, pipeline } = this.pipelineFor(spec, owner, content, identity, timeout);
      // A new commit stops the pipeline once resolved (onlyReuse): the full path fetches and renders it.
      const rev = await renderPipeline({ kind: 'git', fetch: { ...git, reuse: (r) => this.applied.reusable(key, r, generation, identityName(identity), snapshot.inventory), onlyReuse: true } }, pipeline);
      if (!rev.reused) { lists.abort(); return undefined; }
      const check = await ahead;
      if (!check.unchanged) return undefined;
      revision = rev.revision;
      listRequests = check.listRequests;
    } catch (err) {
      lists.abort();
      if (signal.aborted) throw err;
      return undefined; // the full path reports it
    }
    const base: GitSyncStatus = { observedGeneration: generation, lastHandledRequestedAt: obj.metadata.annotations?.[REQUESTED_AT] ?? obj.status?.lastHandledRequestedAt };
    try {
      return await this.inSync(obj, spec, base, revision, listRequests, undefined, this.deps.logger.child({ gitsync: key }), true);
    } finally {
      this.deps.metrics.gitsyncDuration.observe(owner, (Date.now() - started) / 1000);
    }
  }

  /** A sync that found the same commit with nothing moved: status (and health, if checked) written, nothing applied. */
  private async inSync(obj: GitSyncObject, spec: GitSyncSpec, base: GitSyncStatus, revision: string, listRequests: number, health: Awaited<ReturnType<typeof healthStep>> | undefined, log: Logger, cached: boolean): Promise<ReconcileResult> {
    const { namespace, name } = { namespace: obj.metadata.namespace!, name: obj.metadata.name! };
    const next: GitSyncStatus = { ...base, lastAppliedRevision: revision, lastAttemptedRevision: revision, drifted: 0 };
    await this.finish(obj, { ...next, ...health?.status }, health?.outcome ?? { ready: 'True', reason: 'ReconciliationSucceeded', message: `applied revision ${revision}` }, log);
    log.debug({ revision, dryRuns: 0, listRequests, restored: false, cached }, 'in sync');
    if (health?.outcome.ready === 'False') this.deps.metrics.gitsyncRunsTotal.inc({ namespace, name, result: 'failure' });
    else this.succeeded(namespace, name, 0);
    return { requeueAfterMs: health?.retryMs ?? withJitter(spec.intervalMs) };
  }

  /** The git source and pipeline options of one sync, with the GitSync's identity. */
  private pipelineFor(spec: GitSyncSpec, owner: { namespace: string; name: string }, content: KubeClient, identity: Identity, signal: AbortSignal, onResolved?: (revision: string) => void) {
    const git = { client: content, identity, cacheDir: this.deps.cacheDir, mutex: this.deps.mutex, onResolved, allowInsecure: this.deps.allowInsecureGit, proxyEnv: this.deps.proxyEnv };
    const pipeline = { spec, owner, discovery: this.deps.discovery, limits: this.deps.limits, kustomizePath: this.deps.kustomizePath, signal };
    return { git, pipeline };
  }

  /**
   * A reconcile during a health wait: no fetch and no apply, one look at the objects of lastAppliedRevision
   * (with the GitSync's identity), then Ready, HealthCheckFailed, or another short requeue.
   */
  private async continueWait(obj: GitSyncObject, spec: GitSyncSpec, base: GitSyncStatus, content: KubeClient, identity: Identity, startedAtMs: number, signal: AbortSignal, log: Logger): Promise<ReconcileResult> {
    const status = obj.status ?? {};
    const revision = status.lastAppliedRevision!;
    const step = await healthStep({
      client: content, discovery: this.deps.discovery, identity, spec, owner: { namespace: obj.metadata.namespace!, name: obj.metadata.name! },
      inventory: status.inventory, revision, startedAtMs, nowMs: Date.now(), signal: AbortSignal.any([signal, AbortSignal.timeout(Math.min(spec.timeoutMs, 60_000))]),
    });
    await this.finish(obj, { ...base, ...step.status }, step.outcome, log);
    if (step.retryMs !== undefined) return { requeueAfterMs: step.retryMs };
    if (step.outcome.ready === 'True') log.info({ revision }, 'revision healthy');
    return { requeueAfterMs: withJitter(spec.intervalMs) };
  }

  private succeeded(namespace: string, name: string, drifted: number): void {
    this.deps.metrics.gitsyncRunsTotal.inc({ namespace, name, result: 'success' });
    this.deps.metrics.gitsyncDrifted.set({ namespace, name }, drifted);
    this.deps.metrics.gitsyncLastApplied.set({ namespace, name }, Date.now() / 1000);
  }

  /** The client for a GitSync's content: impersonating its ServiceAccount, or Keelson's own for the controller namespace. */
  private contentClient(identity: Identity): KubeClient {
    return identity.kind === 'serviceAccount' ? this.deps.client.impersonating(identity.user) : this.deps.client;
  }

  /**
   * Holds the finalizer exactly while prune is on: deleting a pruning GitSync deletes what it applied first; one
   * without prune leaves its objects behind. The write carries the resourceVersion read, so it never races a user.
   */
  private async setFinalizer(obj: GitSyncObject, want: boolean): Promise<void> {
    const current = obj.metadata.finalizers ?? [];
    if (current.includes(FINALIZER) === want) return;
    const finalizers = want ? [...current, FINALIZER] : current.filter((f) => f !== FINALIZER);
    const updated = await this.deps.client.patch<GitSyncObject>(GITSYNCS, obj.metadata.namespace, obj.metadata.name!, 'merge', {
      metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion },
    });
    obj.metadata = updated.metadata;
  }

  /**
   * A GitSync being deleted: with prune on (and not suspended, as in Flux) delete every inventory object that is still
   * ours and not protected, then release the finalizer. A failure keeps the finalizer, reports why, and retries.
   * Deletions use the GitSync's identity like its writes; with no identity allowed, objects are left in place.
   */
  private async finalize(obj: GitSyncObject, signal: AbortSignal, log: Logger): Promise<void> {
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) return;
    let prune = false;
    try { const spec = parseSpec(obj); prune = spec.prune && !spec.suspend; } catch (err) { if (!(err instanceof SpecError)) throw err; }
    const owner = { namespace: obj.metadata.namespace!, name: obj.metadata.name! };
    const identity = identityFor({ ...owner, serviceAccountName: typeof obj.spec?.serviceAccountName === 'string' ? obj.spec.serviceAccountName : undefined }, this.deps.identityPolicy);
    if (prune && identity.kind === 'refused') {
      const message = `deleting: the objects this GitSync applied are left in place, since it may not delete with Keelson's identity. ${identity.message}`;
      log.warn(message);
      void this.deps.events.record(involvedObjectOf(obj), 'Warning', 'ServiceAccountRequired', message);
    } else if (prune) {
      try {
        const { deleted } = await this.prune(this.contentClient(identity), identity, obj.status?.inventory, [], owner, signal, log);
        log.info({ pruned: deleted }, 'GitSync deleted: pruned the objects it applied');
      } catch (err) {
        const message = `deleting: ${errorText(err)}; the finalizer ${FINALIZER} stays until this succeeds (or remove it by hand to leave the objects)`;
        void this.deps.events.record(involvedObjectOf(obj), 'Warning', 'PruneFailed', message);
        throw err;
      }
    }
    await this.setFinalizer(obj, false);
  }

  /** Deletes inventory entries that left Git and are still ours; returns entries to keep (failed deletions). */
  private async prune(client: KubeClient, identity: Identity, previous: InventoryEntry[] | undefined, current: InventoryEntry[], owner: { namespace: string; name: string }, signal: AbortSignal, log: Logger): Promise<{ deleted: number; keep: InventoryEntry[] }> {
    let deleted = 0;
    const keep: InventoryEntry[] = [];
    const failures: string[] = [];
    for (const ref of staleEntries(previous, current)) {
      signal.throwIfAborted();
      const type = await this.deps.discovery.resourceFor(ref.group, ref.version, ref.kind);
      if (!type) continue; // the kind is gone, and with it the object
      const what = `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
      try {
        const live = await client.tryGet(type, ref.namespace, ref.name);
        const verdict = pruneVerdict(live, owner);
        if (verdict === 'delete') {
          await client.delete(type, ref.namespace, ref.name, { uid: live!.metadata.uid, propagationPolicy: 'Background' });
          deleted++;
          log.info({ object: what }, 'pruned: no longer in Git');
        } else if (verdict !== 'gone') {
          log.info({ object: what, verdict }, verdict === 'protected' ? 'not pruned: annotated keelson.dev/prune: disabled' : 'not pruned: not applied by this GitSync');
        }
      } catch (err) {
        if (isNotFound(err)) continue;
        keep.push({ id: ref.id, v: ref.version });
        failures.push(isForbidden(err) ? forbiddenMessage(what, err, identity) : `${what}: ${apiMessage(err)}`);
      }
    }
    if (failures.length > 0) throw new PruneError(`could not prune ${failures.join('; ')}`);
    return { deleted, keep };
  }

  private async finish(obj: GitSyncObject, next: GitSyncStatus, outcome: Parameters<typeof outcomeConditions>[1], log: Logger): Promise<void> {
    const prev = readyCondition(obj.status);
    const conditions = outcomeConditions(obj.status?.conditions, outcome, obj.metadata.generation, new Date().toISOString());
    await this.writeStatus(obj, { ...next, conditions });
    if (outcome.ready === 'False' && (prev?.reason !== outcome.reason || prev.message !== outcome.message || prev.status !== 'False')) {
      log.warn({ reason: outcome.reason, err: outcome.message }, 'sync failed');
      void this.deps.events.record(involvedObjectOf(obj), 'Warning', outcome.reason, outcome.message);
    }
  }

  private async writeStatus(obj: GitSyncObject, next: GitSyncStatus): Promise<void> {
    if (!statusDiffers(obj.status, next)) return;
    try {
      const updated = await this.deps.client.patch<GitSyncObject>(GITSYNCS, obj.metadata.namespace, obj.metadata.name!, 'merge', { status: next }, { subresource: 'status' });
      obj.status = updated.status;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A deleted GitSync: drop its cache folder and its metric series. */
  private async forget(namespace: string, name: string): Promise<void> {
    this.applied.forget(`${namespace}/${name}`);
    this.deps.metrics.gitsyncDrifted.remove({ namespace, name });
    this.deps.metrics.gitsyncLastApplied.remove({ namespace, name });
    await removeStaleEntries(this.deps.cacheDir, (ns, n) => !(ns === namespace && n === name));
  }
}

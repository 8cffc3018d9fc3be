// The one owner of a controller process's lifecycle, after controller-runtime's Manager: it starts the stores,
// serves health and metrics, waits for every cache to sync, then (as leader, when leader election is on) starts
// the work queues and leader-only runnables. On stop it takes no new work, drains in-flight reconciles, releases
// leadership and closes everything, within the shutdown timeout.

import type { Address } from '../config/options.js';
import type { Logger } from '../observe/logger.js';
import { LoopWatchdog } from '../observe/loop-watchdog.js';
import type { Metrics } from '../observe/metrics.js';
import { HttpServer, sendText } from '../server/http.js';
import { sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { type CrdRequirement, waitForCrd } from './crd-wait.js';
import { errorText } from './errors.js';
import type { EventRecorder } from './events.js';
import type { Store } from './store.js';
import { type Reconciler, WorkQueue, type WorkQueueOptions } from './workqueue.js';

/** Something that runs until its signal aborts: a key-renewal timer, a poller, a rollout tracker. */
export interface Runnable {
  readonly name: string;
  /** Leader-only runnables start when leadership is won; the others start with the manager. */
  readonly needsLeader: boolean;
  run(signal: AbortSignal): Promise<void>;
}

/** Leader election as the manager sees it; the Lease implementation lives in leader-election.ts. */
export interface LeaderElector {
  /** Runs until signal aborts; calls onLeading once leadership is won and onLost if it is lost afterwards. */
  run(signal: AbortSignal, onLeading: () => void, onLost: () => void): Promise<void>;
  /** Gives leadership up at once (SIGTERM), so a standby takes over without waiting for the lease to expire. */
  release(): Promise<void>;
  /** False when the lease may have passed to another replica (not renewed within the deadline); writers check it. */
  holdsLease?(): boolean;
}

export interface ManagerOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventRecorder;
  readonly httpAddr: Address;
  readonly metricsAddr: Address | undefined;
  readonly shutdownTimeoutMs: number;
  readonly elector?: LeaderElector;
  /** /healthz fails for a while after the event loop was blocked longer than this; 0 or absent: never. */
  readonly maxEventLoopBlockMs?: number;
  /** How long a stall counts against /healthz; default stallWindowFor(maxEventLoopBlockMs). Tests shorten it. */
  readonly eventLoopWindowMs?: number;
  /** How long a runnable may stay dead before /healthz fails (so Kubernetes restarts the pod); default 60 s. */
  readonly deadGraceMs?: number;
  /** How often every store's list/watch rights are re-checked for /readyz (an open watch outlives a revoked
   * Role); default 10 s, 0: never. */
  readonly accessCheckMs?: number;
}

/** A list/watch failure newer than this keeps a store not ready (its retries come at most every 30 s). */
const STORE_FAILURE_FRESH_MS = 45_000;

export interface AddStoreOptions {
  /** Start the store once this CRD exists (logging what to install meanwhile); start() does not wait for it. */
  readonly crd?: CrdRequirement;
  /** false: start() does not wait for this store's sync (it still counts for /readyz); default true without crd. */
  readonly gatesStart?: boolean;
}

interface ManagedStore { readonly store: Store<unknown>; readonly crd: CrdRequirement | undefined; readonly gatesStart: boolean; crdAbsent: boolean }

interface Controller { queue: WorkQueue; reconcile: Reconciler }

export class Manager {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventRecorder;
  /** Routes for --http-addr; features add theirs before start(). */
  readonly http: HttpServer;
  private readonly metricsServer: HttpServer | undefined;
  private readonly stores: ManagedStore[] = [];
  /** Runnables that failed, with when and why: /readyz false at once, /healthz false after deadGraceMs. */
  private readonly dead = new Map<string, { readonly at: number; readonly why: string }>();
  /** Stores whose list or watch rights the last access check found missing, with the reason. */
  private readonly denied = new Map<Store<unknown>, string>();
  private readonly controllers: Controller[] = [];
  private readonly runnables: Runnable[] = [];
  private readonly running: Promise<void>[] = [];
  private readonly leaderAbort = new AbortController();
  private readonly allAbort = new AbortController();
  private readonly readyChecks: (() => string | undefined)[] = [];
  private leading = false;
  private started = false;
  private stopped: Promise<void> | undefined;
  private lostHandler: (() => void) | undefined;
  private readonly watchdog: LoopWatchdog | undefined;
  httpPort = 0;
  metricsPort = 0;

  constructor(private readonly opts: ManagerOptions) {
    this.client = opts.client;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.events = opts.events;
    this.http = new HttpServer('http', opts.logger);
    if (opts.maxEventLoopBlockMs) {
      this.watchdog = new LoopWatchdog({
        maxBlockMs: opts.maxEventLoopBlockMs,
        ...(opts.eventLoopWindowMs ? { windowMs: opts.eventLoopWindowMs } : {}),
        onTick: (ms) => opts.metrics.eventLoopBlocked.set(ms / 1000),
      });
    }
    this.http.route('GET', '/healthz', (_req, res) => {
      const why = this.watchdog?.verdict() ?? this.deadTooLong();
      sendText(res, why ? 503 : 200, why ? `unhealthy: ${why}\n` : 'ok\n');
    });
    this.http.route('GET', '/readyz', (_req, res) => {
      const why = this.notReady();
      sendText(res, why ? 503 : 200, why ? `not ready: ${why}\n` : `ok (${this.leading ? 'leader' : 'standby'})\n`);
    });
    if (opts.metricsAddr) {
      this.metricsServer = new HttpServer('metrics', opts.logger);
      this.metricsServer.route('GET', '/metrics', async (_req, res) => {
        sendText(res, 200, await this.metrics.registry.metrics(), this.metrics.registry.contentType);
      });
    }
  }

  get isLeader(): boolean { return this.leading && (this.opts.elector?.holdsLease?.() ?? true); }
  /** Aborts when the manager stops; for runnables and reconcilers that wait. */
  get signal(): AbortSignal { return this.allAbort.signal; }

  /**
   * Every cache goes through here, so readiness covers them all: /readyz waits for its first LIST and turns false
   * while its list/watch fails or its rights are gone. start() resolves after the sync of every store that gates it.
   */
  addStore<R>(store: Store<R>, opts: AddStoreOptions = {}): Store<R> {
    const m: ManagedStore = { store: store as Store<unknown>, crd: opts.crd, gatesStart: opts.gatesStart ?? !opts.crd, crdAbsent: false };
    this.stores.push(m);
    if (this.started) void this.startStore(m);
    return store;
  }

  /** Starts a store, or its wait for its CRD; resolves once the first CRD probe has answered (readiness knows). */
  private startStore(m: ManagedStore): Promise<void> {
    if (!m.crd) { m.store.start(); return Promise.resolve(); }
    let answered!: () => void;
    const first = new Promise<void>((r) => { answered = r; });
    this.running.push(waitForCrd(this.client, this.logger, m.crd, this.allAbort.signal, (absent) => { m.crdAbsent = absent; answered(); }).then(() => {
      answered();
      if (!this.allAbort.signal.aborted) m.store.start();
    }));
    return first;
  }

  /** A work queue whose reconciler runs only once caches are synced (and, with leader election, only on the leader). */
  addController(opts: WorkQueueOptions, reconcile: Reconciler): WorkQueue {
    const queue = new WorkQueue(opts);
    this.controllers.push({ queue, reconcile });
    return queue;
  }

  addRunnable(r: Runnable): void {
    this.runnables.push(r);
  }

  /** An extra readiness condition: return a reason while not ready, undefined when ready. */
  addReadyCheck(check: () => string | undefined): void {
    this.readyChecks.push(check);
  }

  /** Called when leadership is lost after being held; the CLI exits so the process restarts clean. */
  onLostLeadership(handler: () => void): void {
    this.lostHandler = handler;
  }

  private notReady(): string | undefined {
    const dead = [...this.dead].map(([name, d]) => `${name} (${d.why})`);
    if (dead.length > 0) return `runnables stopped: ${dead.join(', ')}`;
    const pending = this.stores.filter((m) => !m.store.synced && !(m.crd?.optional && m.crdAbsent))
      .map((m) => (m.crd ? `${m.store.name} (is the ${m.crd.name} CRD installed?)` : m.store.name));
    if (pending.length > 0) return `caches not synced: ${pending.join(', ')}`;
    const now = Date.now();
    const failing = this.stores.flatMap((m) => {
      const f = m.store.lastFailure;
      const denied = this.denied.get(m.store);
      if (denied) return [`${m.store.name} (${denied})`];
      return f && now - f.at < STORE_FAILURE_FRESH_MS ? [`${m.store.name} (${f.message})`] : [];
    });
    if (failing.length > 0) return `caches failing: ${failing.join(', ')}`;
    for (const c of this.readyChecks) { const why = c(); if (why) return why; }
    return undefined;
  }

  private deadTooLong(): string | undefined {
    const grace = this.opts.deadGraceMs ?? 60_000;
    const now = Date.now();
    const long = [...this.dead].filter(([, d]) => now - d.at >= grace).map(([name, d]) => `${name} (${d.why})`);
    return long.length > 0 ? `runnables stopped for more than ${Math.round(grace / 1000)} s: ${long.join(', ')}` : undefined;
  }

  /**
   * An open watch outlives a revoked Role, so /readyz would stay true on a cache that can no longer recover; one
   * SelfSubjectAccessReview per verb and (resource, namespace) every interval keeps it honest without reading data.
   */
  private async checkAccess(signal: AbortSignal): Promise<void> {
    const every = this.opts.accessCheckMs ?? 10_000;
    if (every <= 0) return;
    while (!signal.aborted) {
      await sleep(every, signal);
      const verdicts = new Map<string, string | undefined | null>();
      for (const { store } of [...this.stores]) {
        if (signal.aborted) return;
        const { resource, namespace } = store.scope;
        const id = `${resource.group}/${resource.plural}/${namespace ?? ''}`;
        if (!verdicts.has(id)) verdicts.set(id, await this.missingRights(resource.group, resource.plural, namespace));
        const why = verdicts.get(id);
        if (why === null) continue; // no answer: the store's own list/watch failures speak for an unreachable API
        if (why) this.denied.set(store, why); else this.denied.delete(store);
      }
    }
  }

  /** What right is missing, undefined when none is, null when the API did not answer. SSARs read no data. */
  private async missingRights(group: string, plural: string, namespace: string | undefined): Promise<string | undefined | null> {
    for (const verb of ['list', 'watch']) {
      try {
        const review = await this.client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group, resource: plural, verb, ...(namespace ? { namespace } : {}) } } },
        });
        if (!review.status?.allowed) return `no ${verb} right on ${plural}${namespace ? ` in ${namespace}` : ''}: grant it to Keelson's ServiceAccount`;
      } catch (err) {
        this.logger.debug({ resource: plural, namespace, err: errorText(err) }, 'access check failed; keeping the last verdict');
        return null;
      }
    }
    return undefined;
  }

  /** Starts everything and resolves once caches are synced (controllers may still be waiting for leadership). */
  async start(): Promise<void> {
    if (this.started) throw new Error('manager already started');
    this.started = true;
    this.watchdog?.start();
    this.httpPort = await this.http.listen(this.opts.httpAddr);
    if (this.metricsServer) this.metricsPort = await this.metricsServer.listen(this.opts.metricsAddr!);
    this.logger.info({ httpPort: this.httpPort, metricsPort: this.metricsPort || undefined }, 'serving health and metrics');
    await Promise.all(this.stores.map((m) => this.startStore(m)));
    this.running.push(this.checkAccess(this.allAbort.signal).catch((err) => this.logger.error({ err: errorText(err) }, 'access checks stopped')));
    const gating = this.stores.filter((m) => m.gatesStart).map((m) => m.store);
    await Promise.all(gating.map((s) => s.waitForSync(this.allAbort.signal)));
    if (this.allAbort.signal.aborted) return;
    this.logger.info({ stores: gating.map((s) => `${s.name}=${s.size}`) }, 'caches synced');
    for (const r of this.runnables.filter((r) => !r.needsLeader)) this.launch(r, this.allAbort.signal);
    if (this.opts.elector) {
      this.metrics.leader.set(0);
      const electing = this.opts.elector.run(this.allAbort.signal, () => this.startLeading(), () => {
        this.logger.error('leadership lost; stopping');
        this.leading = false;
        this.metrics.leader.set(0);
        this.lostHandler?.();
      });
      this.running.push(electing.catch((err) => this.logger.error({ err }, 'leader election failed')));
    } else {
      this.startLeading();
    }
  }

  private startLeading(): void {
    if (this.leading || this.allAbort.signal.aborted) return;
    this.leading = true;
    this.metrics.leader.set(1);
    this.logger.info('leading: starting controllers');
    for (const c of this.controllers) c.queue.start(c.reconcile);
    for (const r of this.runnables.filter((r) => r.needsLeader)) this.launch(r, this.leaderAbort.signal);
  }

  /**
   * A runnable that throws is dead: /readyz false at once, /healthz false after the grace so Kubernetes restarts the
   * pod. Returning is allowed (a key generator with renewal off is done once a key exists).
   */
  private launch(r: Runnable, signal: AbortSignal): void {
    this.running.push(r.run(signal).then(() => {}, (err) => {
      if (signal.aborted) return;
      this.dead.set(r.name, { at: Date.now(), why: errorText(err) });
      this.logger.error({ runnable: r.name, err }, 'runnable failed; not ready');
    }));
  }

  /** Graceful stop: no new work, drain in-flight reconciles, release leadership, close servers. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    const deadline = Date.now() + this.opts.shutdownTimeoutMs;
    this.logger.info('shutting down: draining in-flight work');
    const drained = await Promise.all(this.controllers.map((c) => c.queue.shutdown(Math.max(0, deadline - Date.now()))));
    if (drained.some((d) => !d)) this.logger.warn('some reconciles were still running at the shutdown deadline');
    this.leaderAbort.abort();
    if (this.opts.elector && this.leading) {
      await this.opts.elector.release().catch((err) => this.logger.warn({ err: String(err) }, 'could not release the lease'));
    }
    this.leading = false;
    this.allAbort.abort();
    await Promise.race([Promise.all(this.running), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    await Promise.all(this.stores.map((m) => m.store.stop()));
    await Promise.all([this.http.close(), this.metricsServer?.close()]);
    this.watchdog?.stop();
    this.client.close();
    this.logger.info('stopped');
  }
}

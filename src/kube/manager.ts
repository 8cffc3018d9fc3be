// The one owner of a controller process's lifecycle, after controller-runtime's Manager: it starts the stores,
// serves health and metrics, waits for every cache to sync, then (as leader, when leader election is on) starts
// the work queues and leader-only runnables. On stop it takes no new work, drains in-flight reconciles, releases
// leadership and closes everything, within the shutdown timeout.

import type { Address } from '../config/options.js';
import type { Logger } from '../observe/logger.js';
import { LoopWatchdog } from '../observe/loop-watchdog.js';
import type { Metrics } from '../observe/metrics.js';
import { HttpServer, sendText } from '../server/http.js';
import type { KubeClient } from './client.js';
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
}

interface Controller { queue: WorkQueue; reconcile: Reconciler }

export class Manager {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventRecorder;
  /** Routes for --http-addr; features add theirs before start(). */
  readonly http: HttpServer;
  private readonly metricsServer: HttpServer | undefined;
  private readonly stores: Store<unknown>[] = [];
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
      const why = this.watchdog?.verdict();
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

  addStore<R>(store: Store<R>): Store<R> {
    this.stores.push(store as Store<unknown>);
    if (this.started) store.start();
    return store;
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
    const pending = this.stores.filter((s) => !s.synced).map((s) => s.name);
    if (pending.length > 0) return `caches not synced: ${pending.join(', ')}`;
    for (const c of this.readyChecks) { const why = c(); if (why) return why; }
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
    for (const s of this.stores) s.start();
    await Promise.all(this.stores.map((s) => s.waitForSync(this.allAbort.signal)));
    if (this.allAbort.signal.aborted) return;
    this.logger.info({ stores: this.stores.map((s) => `${s.name}=${s.size}`) }, 'caches synced');
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

  private launch(r: Runnable, signal: AbortSignal): void {
    this.running.push(r.run(signal).catch((err) => {
      if (!signal.aborted) this.logger.error({ runnable: r.name, err }, 'runnable failed');
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
    await Promise.all(this.stores.map((s) => s.stop()));
    await Promise.all([this.http.close(), this.metricsServer?.close()]);
    this.watchdog?.stop();
    this.client.close();
    this.logger.info('stopped');
  }
}

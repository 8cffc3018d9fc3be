// Turns recorded Events into deliveries without ever holding up the reconcile that recorded them: offer() only
// matches and enqueues. Each target (a Notifier, or Reloader's ALERT_* settings) has its own bounded queue (the
// oldest entry is dropped and counted when full), identical notifications within a window are coalesced, and one
// worker per target delivers in order with retries and backoff. Outcomes feed keelson_notifications_total and the
// Notifier's Ready condition (through onOutcome).

import { LRUCache } from 'lru-cache';
import type { InvolvedObject } from '../kube/events.js';
import { backoffDelay, sleep } from '../kube/backoff.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { type Notification, type NotifierSecret, type OutboundRequest, type ReloaderSink, notificationOf, reloaderRequest, requestFor } from './payload.js';
import { type SendResult, send } from './send.js';
import { type NotifierRecord, type NotifyEvent, hears } from './spec.js';
import { errorText } from '../kube/errors.js';

export interface ReloaderAlert {
  readonly sink: ReloaderSink;
  readonly url: string;
  readonly additionalInfo: string | undefined;
}

export interface DeliveryOutcome {
  readonly ok: boolean;
  readonly message: string;
}

export interface DispatcherOptions {
  readonly controllerNamespace: string;
  /** Names the controller in payloads (the pod name). */
  readonly controller: string;
  /** The Notifiers that may hear an Event in this namespace (its own, plus the controller namespace's). */
  readonly notifiers: (namespace: string) => Iterable<NotifierRecord>;
  /** Reads a Notifier's Secret; throws an Error whose message is safe to show (no values). */
  readonly loadSecret: (notifier: NotifierRecord) => Promise<NotifierSecret>;
  readonly reloaderAlert?: ReloaderAlert | undefined;
  /** Adds facts that need API reads (the Git commit behind a roll); run once per notification, at delivery. */
  readonly enrich?: (n: Notification) => Promise<Notification>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** A Notifier's delivery state changed (first outcome, success after failure, a new failure). */
  readonly onOutcome?: (key: string) => void;
  readonly queueSize?: number;
  /** Requests in flight at once over all targets, so many slow endpoints cannot hold many sockets. */
  readonly maxInFlight?: number;
  readonly coalesceMs?: number;
  readonly attempts?: number;
  readonly backoff?: { baseMs: number; maxMs: number };
  readonly timeoutMs?: number;
}

/** The synthetic key of the ALERT_* target; never a valid namespace/name. */
export const RELOADER_TARGET = '(ALERT_WEBHOOK_URL)';

interface Target {
  readonly key: string;
  /** Metric label: the Notifier type, or "reloader". */
  readonly type: string;
  readonly items: Notification[];
  readonly recent: LRUCache<string, true>;
  busy: boolean;
  build: (n: Notification) => Promise<OutboundRequest>;
}

export class Dispatcher {
  private readonly targets = new Map<string, Target>();
  private readonly outcomes = new Map<string, DeliveryOutcome>();
  private readonly abort = new AbortController();
  private readonly o: Required<Pick<DispatcherOptions, 'queueSize' | 'maxInFlight' | 'coalesceMs' | 'attempts' | 'backoff'>> & DispatcherOptions;
  private readonly enriched = new WeakMap<Notification, Promise<Notification>>();
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(opts: DispatcherOptions) {
    this.o = { queueSize: 100, maxInFlight: 16, coalesceMs: 60_000, attempts: 4, backoff: { baseMs: 1000, maxMs: 30_000 }, ...opts };
  }

  /** The last delivery outcome of a Notifier (namespace/name), if it has had one since this process started. */
  outcome(key: string): DeliveryOutcome | undefined { return this.outcomes.get(key); }

  /** A Notifier was deleted or changed: its pending notifications and delivery state go. */
  forget(key: string): void {
    const t = this.targets.get(key);
    if (t) t.items.length = 0;
    this.targets.delete(key);
    this.outcomes.delete(key);
  }

  /** Stops delivering (pending notifications are dropped; in-flight requests are aborted). */
  stop(): void {
    this.abort.abort();
    for (const w of this.slotWaiters.splice(0)) w();
  }

  /** The EventRecorder listener: match and enqueue, nothing else. */
  offer(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.abort.signal.aborted) return;
    const event: NotifyEvent = { kind: obj.kind, namespace: obj.namespace || 'default', name: obj.name, type, reason, message };
    let n: Notification | undefined;
    const note = () => (n ??= notificationOf(event, new Date().toISOString()));
    for (const r of this.o.notifiers(event.namespace)) {
      if (!hears(r, event, this.o.controllerNamespace)) continue;
      const key = `${r.namespace}/${r.name}`;
      this.enqueue(this.targetFor(key, r.type, (x) => this.notifierRequest(r, x)), note());
    }
    const ra = this.o.reloaderAlert;
    if (ra && reason === 'Reloaded') {
      this.enqueue(this.targetFor(RELOADER_TARGET, 'reloader', async (x) => reloaderRequest(ra.sink, ra.url, x, ra.additionalInfo)), note());
    }
  }

  private targetFor(key: string, type: string, build: Target['build']): Target {
    let t = this.targets.get(key);
    if (!t || t.type !== type) {
      t = { key, type, items: [], busy: false, build, recent: new LRUCache({ max: 1024, ttl: this.o.coalesceMs }) };
      this.targets.set(key, t);
    }
    t.build = build; // the latest record (type, secret name) is used for what is still queued
    return t;
  }

  private enqueue(t: Target, n: Notification): void {
    const e = n.event;
    const id = `${e.kind}\u0000${e.namespace}\u0000${e.name}\u0000${e.type}\u0000${e.reason}\u0000${e.message}`;
    if (t.recent.has(id)) { this.count(t, 'coalesced'); return; }
    t.recent.set(id, true);
    if (t.items.length >= this.o.queueSize) {
      t.items.shift();
      this.count(t, 'dropped');
      this.o.logger.warn({ notifier: t.key, queueSize: this.o.queueSize }, 'notification queue full: dropped the oldest notification');
    }
    t.items.push(n);
    if (!t.busy) { t.busy = true; void this.drain(t); }
  }

  private async drain(t: Target): Promise<void> {
    const signal = this.abort.signal;
    try {
      while (t.items.length > 0 && !signal.aborted && this.targets.get(t.key) === t) {
        const n = t.items.shift()!;
        await this.deliver(t, await this.enrichOnce(n), signal);
      }
    } finally {
      t.busy = false;
    }
  }

  private async deliver(t: Target, n: Notification, signal: AbortSignal): Promise<void> {
    const log = this.o.logger;
    let last: SendResult | undefined;
    let attempt = 0;
    for (; attempt < this.o.attempts && !signal.aborted; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(this.o.backoff, attempt - 1), signal);
      let req: OutboundRequest;
      try {
        req = await t.build(n);
      } catch (err) {
        last = { ok: false, error: errorText(err), retry: true };
        continue;
      }
      await this.acquire(signal);
      try { last = await send(req, signal, this.o.timeoutMs); } finally { this.release(); }
      if (last.ok || !last.retry) break;
    }
    if (signal.aborted) return;
    const what = `${n.event.reason} for ${n.event.kind} ${n.event.namespace}/${n.event.name}`;
    if (last?.ok) {
      this.count(t, 'success');
      log.debug({ notifier: t.key, reason: n.event.reason }, 'notification delivered');
      this.setOutcome(t.key, { ok: true, message: `delivered ${what}` });
    } else {
      this.count(t, 'failure');
      const error = last && !last.ok ? last.error : 'not sent';
      // Never the address: the error text is built from status codes and socket error codes only.
      log.warn({ notifier: t.key, type: t.type, reason: n.event.reason, attempts: attempt, err: error }, 'notification not delivered');
      this.setOutcome(t.key, { ok: false, message: `could not deliver ${what} after ${attempt} attempts: ${error}` });
    }
  }

  /** One enrichment per notification, shared by every target it goes to. */
  private enrichOnce(n: Notification): Promise<Notification> {
    const enrich = this.o.enrich;
    if (!enrich) return Promise.resolve(n);
    let p = this.enriched.get(n);
    if (!p) { p = enrich(n).catch(() => n); this.enriched.set(n, p); }
    return p;
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (this.inFlight < this.o.maxInFlight || signal.aborted) { this.inFlight++; return Promise.resolve(); }
    return new Promise((resolve) => this.slotWaiters.push(() => { this.inFlight++; resolve(); }));
  }

  private release(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  private setOutcome(key: string, next: DeliveryOutcome): void {
    const prev = this.outcomes.get(key);
    this.outcomes.set(key, next);
    if (key === RELOADER_TARGET) return;
    if (!prev || prev.ok !== next.ok || (!next.ok && prev.message !== next.message)) this.o.onOutcome?.(key);
  }

  private async notifierRequest(r: NotifierRecord, n: Notification): Promise<OutboundRequest> {
    const secret = await this.o.loadSecret(r);
    return requestFor(r.type, n, secret, this.o.controller);
  }

  private count(t: Target, result: 'success' | 'failure' | 'dropped' | 'coalesced'): void {
    this.o.metrics.notificationsTotal.inc({ type: t.type, result });
  }
}

// Leader election through a coordination.k8s.io/v1 Lease: the thin I/O around lease-decision.ts. Every attempt reads
// the Lease, decides, and writes with the resourceVersion it read, so two candidates can never both win (the API
// answers the loser 409). The leader renews every retry period and gives up when it cannot renew within the deadline.

import { randomBytes } from 'node:crypto';
import type { Logger } from '../observe/logger.js';
import { type KubeClient, isConflict, isNotFound, isAlreadyExists } from './client.js';
import { type Decision, type LeaseRecord, type Observation, decide, mustGiveUp, observe, recordOf, releasedRecord, specOf } from './lease-decision.js';
import type { LeaderElector } from './manager.js';
import { LEASES, apiVersionOf, resourcePath } from './resources.js';
import type { KubeObject } from './types.js';
import { sleep } from './backoff.js';
import { errorText } from './errors.js';

export interface LeaseElectorOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly namespace: string;
  readonly name: string;
  /** Stable part of the identity (the pod name); a random suffix keeps two processes of one pod apart. */
  readonly podName: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** Local clock; tests may pass their own. */
  readonly now?: () => number;
}

type Attempt = { ok: true; decision: Decision } | { ok: false; decision?: Decision; error?: unknown };

export class LeaseElector implements LeaderElector {
  readonly identity: string;
  private readonly now: () => number;
  private observed: Observation | undefined;
  private resourceVersion: string | undefined;
  private leading = false;
  private released = false;
  /** When the lease was last acquired or renewed (this.now()); a lease is trusted only for the renew deadline. */
  private lastRenewedAt = 0;
  /** Serialises attempts and the release, so a release never races a renewal. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: LeaseElectorOptions) {
    this.identity = `${opts.podName}_${randomBytes(5).toString('hex')}`;
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean { return this.leading; }

  /**
   * Leading and renewed within the renew deadline. A process that was paused (SIGSTOP, a VM freeze) wakes with its
   * timers overdue and may run a write before its renewal notices another replica took the lease: writers ask this
   * first, so a sleeper that wakes past its deadline writes nothing until a renewal proves the lease is still its.
   */
  holdsLease(): boolean { return this.leading && this.now() - this.lastRenewedAt < this.opts.renewDeadlineMs; }

  private get ref(): string { return `Lease ${this.opts.namespace}/${this.opts.name}`; }

  async run(signal: AbortSignal, onLeading: () => void, onLost: () => void): Promise<void> {
    const log = this.opts.logger.child({ lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.identity });
    log.info('leader election: standing by until the lease is ours');
    let lastWait: string | undefined;
    // Candidate: try every retry period (with jitter, so standbys do not hit the API in step) until we win.
    while (!signal.aborted && !this.released) {
      const r = await this.attempt(signal, this.opts.renewDeadlineMs);
      if (r.ok) break;
      if (r.error !== undefined && !signal.aborted) log.warn({ err: errorText(r.error) }, 'leader election: could not read or write the lease; retrying');
      if (r.decision?.action === 'wait' && r.decision.holder !== lastWait) {
        lastWait = r.decision.holder;
        log.info({ holder: lastWait }, 'leader election: lease held by another replica');
      }
      await sleep(this.opts.retryPeriodMs * (1 + 0.2 * Math.random()), signal);
    }
    if (signal.aborted || this.released) return;
    this.lastRenewedAt = this.now();
    this.leading = true;
    log.info('leader election: acquired the lease');
    onLeading();
    // Leader: renew every retry period; a renewal that fails is retried until the renew deadline has passed.
    let lastRenewedAt = this.lastRenewedAt;
    for (;;) {
      await sleep(this.opts.retryPeriodMs, signal);
      if (signal.aborted || this.released) return;
      // A hanging request must not carry the leader past its deadline: it gets only the time that is left.
      const r = await this.attempt(signal, lastRenewedAt + this.opts.renewDeadlineMs - this.now());
      if (signal.aborted || this.released) return;
      if (r.ok) { lastRenewedAt = this.now(); this.lastRenewedAt = lastRenewedAt; continue; }
      if (r.decision && !(r.decision.action === 'update' && r.decision.kind === 'renew')) {
        // The Lease names someone else (or nobody): never keep acting on a lease we no longer hold.
        log.error({ holder: r.decision.action === 'wait' ? r.decision.holder : undefined }, 'leader election: the lease is no longer ours');
      } else if (!mustGiveUp(lastRenewedAt, this.now(), this.opts.renewDeadlineMs)) {
        log.warn({ err: r.error === undefined ? undefined : errorText(r.error) }, 'leader election: renewal failed; retrying');
        continue;
      } else {
        log.error({ err: r.error === undefined ? undefined : errorText(r.error) }, 'leader election: could not renew the lease before the renew deadline');
      }
      this.leading = false;
      onLost();
      return;
    }
  }

  /** One read-decide-write round. ok means we hold the lease afterwards. */
  private attempt(signal: AbortSignal, timeoutMs: number): Promise<Attempt> {
    const next = this.lock.then(() => this.attemptUnlocked(signal, Math.max(100, timeoutMs)));
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async attemptUnlocked(signal: AbortSignal, timeoutMs: number): Promise<Attempt> {
    if (this.released) return { ok: false };
    let current: LeaseRecord | undefined;
    try {
      current = await this.read(signal, timeoutMs);
    } catch (error) {
      return { ok: false, error };
    }
    this.observed = observe(this.observed, current, this.now());
    const decision = decide({ identity: this.identity, now: this.now(), leaseDurationMs: this.opts.leaseDurationMs, current, observed: this.observed });
    if (decision.action === 'wait') return { ok: false, decision };
    if (this.leading && (decision.action !== 'update' || decision.kind !== 'renew')) return { ok: false, decision };
    try {
      await this.write(decision.action, decision.record, signal, timeoutMs);
    } catch (error) {
      // 409: another candidate wrote first (or the leader renewed); we lost this round, the next read shows who won.
      if (isConflict(error) || isAlreadyExists(error)) return { ok: false };
      return { ok: false, decision, error };
    }
    if (decision.action === 'update' && decision.kind === 'takeover') {
      this.opts.logger.info({ lease: this.ref, previous: current?.holderIdentity }, 'leader election: took over an expired lease');
    }
    return { ok: true, decision };
  }

  private async read(signal: AbortSignal | undefined, timeoutMs: number): Promise<LeaseRecord | undefined> {
    try {
      const lease = await this.opts.client.request<KubeObject>('GET', resourcePath(LEASES, this.opts.namespace, this.opts.name), { signal, timeoutMs });
      this.resourceVersion = lease.metadata.resourceVersion;
      return recordOf(lease.spec);
    } catch (e) {
      if (isNotFound(e)) { this.resourceVersion = undefined; return undefined; }
      throw e;
    }
  }

  private async write(action: 'create' | 'update', record: LeaseRecord, signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    const body: KubeObject = {
      apiVersion: apiVersionOf(LEASES), kind: LEASES.kind,
      metadata: { name: this.opts.name, namespace: this.opts.namespace, ...(action === 'update' ? { resourceVersion: this.resourceVersion } : {}) },
      spec: specOf(record),
    };
    const path = action === 'create' ? resourcePath(LEASES, this.opts.namespace) : resourcePath(LEASES, this.opts.namespace, this.opts.name);
    const written = await this.opts.client.request<KubeObject>(action === 'create' ? 'POST' : 'PUT', path, { body, signal, timeoutMs });
    this.resourceVersion = written.metadata.resourceVersion;
    this.observed = observe(this.observed, recordOf(written.spec), this.now());
  }

  /**
   * Gives the lease up: stops renewing, then (if we still hold it) writes an empty holder with a one-second duration,
   * so a standby acquires it on its next try instead of waiting for expiry. Safe to call at any time, more than once.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.leading = false;
    const done = this.lock.then(async () => {
      const timeoutMs = Math.max(1000, this.opts.renewDeadlineMs);
      const current = await this.read(undefined, timeoutMs);
      if (!current || current.holderIdentity !== this.identity) return;
      await this.write('update', releasedRecord(current, this.now()), undefined, timeoutMs);
      this.opts.logger.info({ lease: this.ref, identity: this.identity }, 'leader election: released the lease');
    });
    this.lock = done.catch(() => undefined);
    try {
      await done;
    } catch (e) {
      // A conflict means someone else wrote the Lease since our read: it is not ours to release any more.
      if (!isConflict(e)) throw e;
    }
  }
}

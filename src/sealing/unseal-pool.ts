// A pool of worker threads that run every RSA operation of sealing (the reconciler's unseal, /v1/verify, /v1/rotate),
// so the event loop only moves messages. Workers start on first use and get the keyring's keys whenever it changes
// (the version is checked per job, and a worker reads its messages in order, so a job always sees the keys of its
// moment). Two lanes: the reconciler's jobs go first, and HTTP jobs may hold at most size-1 workers (all of one), so
// a flood of verify calls cannot stall unsealing. A worker that dies fails its jobs and is replaced.

import { Worker } from 'node:worker_threads';
import { cpuLimit } from '../config/cpu-limit.js';
import type { Logger } from '../observe/logger.js';
import type { Keyring } from './keyring.js';
import { type SealedSecret, type SecretTemplate, UnsealError } from './sealed-secret.js';
import type { WorkerAnswer, WorkerMessage } from './unseal-protocol.js';

/** Default pool size: the CPUs this process may use (affinity and the container's CPU quota), at most 4 (each
 * worker costs ~10 MiB). --unseal-workers overrides. */
export function defaultPoolSize(): number {
  return Math.min(4, cpuLimit());
}

export type Lane = 'controller' | 'http';

export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
  constructor() { super('the unseal pool is stopped'); }
}

/** A worker died or failed unexpectedly; carries no detail from the worker (it could hold secret material). */
export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type JobBody = DistributiveOmit<Extract<WorkerMessage, { type: 'unseal' | 'reseal' }>, 'id'> & { lane: Lane };
type Job = JobBody & { resolve: (a: WorkerAnswer) => void; reject: (e: Error) => void };

interface Slot {
  worker: Worker | undefined;
  keysVersion: number;
  /** Posted to the worker, answered in order: the running job and at most one queued behind it. */
  jobs: Job[];
  startedAt: number;
  respawn: NodeJS.Timeout | undefined;
}

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './unseal-worker.ts' : './unseal-worker.js', import.meta.url);

export class UnsealPool {
  private readonly slots: Slot[];
  private readonly queues: Record<Lane, Job[]> = { controller: [], http: [] };
  private readonly httpMax: number;
  private nextId = 1;
  private closed = false;

  constructor(private readonly keyring: Keyring, private readonly logger: Logger, readonly size = defaultPoolSize()) {
    this.slots = Array.from({ length: size }, () => ({ worker: undefined, keysVersion: -1, jobs: [], startedAt: 0, respawn: undefined }));
    this.httpMax = Math.max(1, size - 1);
  }

  /** Opens every value and renders the templates, in a worker; throws UnsealError for bad input. */
  async unseal(ss: SealedSecret, lane: Lane, preferred?: string): Promise<{ data: Map<string, Buffer>; fingerprint: string | undefined; legacy: SecretTemplate | undefined }> {
    const a = await this.run({ type: 'unseal', ss, preferred, lane });
    if (a.kind !== 'unsealed') throw new WorkerFailedError('unexpected answer from an unseal worker');
    return { data: new Map(a.data.map(([k, b]) => [k, Buffer.from(b)])), fingerprint: a.fingerprint, legacy: a.legacy };
  }

  /** The object with every value re-sealed with the newest key, in a worker; throws UnsealError for bad input. */
  async reseal(ss: SealedSecret): Promise<SealedSecret> {
    const a = await this.run({ type: 'reseal', ss, lane: 'http' });
    if (a.kind !== 'resealed') throw new WorkerFailedError('unexpected answer from an unseal worker');
    return a.ss;
  }

  /** Jobs waiting or running (for tests and metrics). */
  get pending(): number {
    return this.queues.controller.length + this.queues.http.length + this.slots.reduce((n, s) => n + s.jobs.length, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of Object.values(this.queues)) for (const j of q.splice(0)) j.reject(new PoolClosedError());
    await Promise.all(this.slots.map(async (s) => {
      clearTimeout(s.respawn);
      for (const j of s.jobs.splice(0)) j.reject(new PoolClosedError());
      const w = s.worker;
      s.worker = undefined;
      await w?.terminate();
    }));
  }

  private async run(job: JobBody): Promise<Extract<WorkerAnswer, { ok: true }>> {
    if (this.closed) throw new PoolClosedError();
    const a = await new Promise<WorkerAnswer>((resolve, reject) => {
      this.queues[job.lane].push({ ...job, resolve, reject });
      this.dispatch();
    });
    if (a.ok) return a;
    if ('internal' in a) throw new WorkerFailedError(`unseal worker failed (${a.internal})`);
    throw new UnsealError(a.reason, a.message);
  }

  /**
   * Idle workers first: the reconciler's queue, then HTTP while fewer than httpMax HTTP jobs are posted. Then a
   * second reconciler job behind a running reconciler job, so a worker never idles waiting for the event loop to
   * read its answer (on a busy machine that wait costs more than the message itself); nothing ever queues behind
   * an HTTP job, which may take seconds.
   */
  private dispatch(): void {
    for (const depth of [0, 1]) {
      for (const slot of this.slots) {
        if (slot.respawn || slot.jobs.length !== depth) continue;
        let job: Job | undefined;
        if (depth === 0) {
          const httpPosted = this.slots.reduce((n, s) => n + s.jobs.filter((j) => j.lane === 'http').length, 0);
          job = this.queues.controller.shift() ?? (httpPosted < this.httpMax ? this.queues.http.shift() : undefined);
        } else if (slot.jobs[0]!.lane === 'controller') {
          job = this.queues.controller.shift();
        }
        if (job) this.start(slot, job);
      }
    }
  }

  private start(slot: Slot, job: Job): void {
    const worker = slot.worker ?? this.spawn(slot);
    if (slot.keysVersion !== this.keyring.version) {
      const keys = this.keyring.keys();
      const msg: WorkerMessage = { type: 'keys', privateKeys: keys.map((k) => k.privateKey), fingerprints: keys.map((k) => k.fingerprint), newestPublic: keys[0]?.publicKey };
      worker.postMessage(msg);
      slot.keysVersion = this.keyring.version;
    }
    slot.jobs.push(job);
    worker.ref(); // a pending job keeps the process alive; an idle worker does not
    const id = this.nextId++;
    const { lane: _lane, resolve: _resolve, reject: _reject, ...body } = job;
    worker.postMessage({ ...body, id } as WorkerMessage);
  }

  private spawn(slot: Slot): Worker {
    // Workers hold private keys: no stdin, and they run nothing but the module below.
    const worker = new Worker(WORKER_URL, { stdin: false });
    worker.unref();
    slot.worker = worker;
    slot.keysVersion = -1;
    slot.startedAt = Date.now();
    worker.on('message', (a: WorkerAnswer) => {
      slot.jobs.shift()?.resolve(a);
      this.dispatch();
      if (slot.jobs.length === 0) worker.unref();
    });
    // 'error' is followed by 'exit'; only the class name is logged (the message could quote worker memory).
    worker.on('error', (e) => this.logger.error({ err: e instanceof Error ? e.name : typeof e }, 'an unseal worker failed'));
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return; // terminated by close()
      slot.worker = undefined;
      for (const j of slot.jobs.splice(0)) j.reject(new WorkerFailedError('an unseal worker stopped unexpectedly; the object is retried'));
      if (this.closed) return;
      this.logger.warn({ code }, 'an unseal worker exited; replacing it');
      // A worker that dies at once is not restarted in a tight loop.
      const delay = Date.now() - slot.startedAt < 1000 ? 1000 : 0;
      slot.respawn = setTimeout(() => { slot.respawn = undefined; this.dispatch(); }, delay);
      slot.respawn.unref();
    });
    return worker;
  }
}

// A small controller builder after controller-runtime's: for(resource) makes the primary Store (registered with the
// Manager, so readiness and the CRD wait come with it), predicates filter its events, watches/owns map other stores'
// events to primary keys, and complete(reconcile) makes the work queue, whose reconciles wait for the primary sync.
// A feature's register.ts then reads as a declaration of what it watches and what it runs.

import type { Logger } from '../observe/logger.js';
import type { CrdRequirement } from './crd-wait.js';
import type { Manager } from './manager.js';
import { type ResourceType, keyOf, splitKey } from './resources.js';
import { Store, type StoreEvent } from './store.js';
import type { KubeObject } from './types.js';
import type { Reconciler, WorkQueue } from './workqueue.js';

export interface ForOptions {
  /** The primary resource's CRD: the store starts once it exists; /readyz waits for it (see CrdRequirement). */
  readonly crd?: CrdRequirement;
  /** Store name for metrics and logs (default: the resource's plural). */
  readonly name?: string;
}

export interface BuiltController<R> {
  readonly store: Store<R>;
  readonly queue: WorkQueue;
}

/** Only changes that matter reconcile: e.g. skip updates whose generation did not move (status writes). */
export type Predicate<R> = (e: StoreEvent<R>) => boolean;

export class ControllerBuilder<R> {
  private primary: { resource: ResourceType; transform: (obj: KubeObject) => R | undefined; opts: ForOptions } | undefined;
  private readonly predicates: Predicate<R>[] = [];
  private readonly sources: ((queue: WorkQueue) => void)[] = [];
  private readonly indexes: [string, (r: R) => readonly string[]][] = [];
  private readonly related: ((e: StoreEvent<R>, store: Store<R>) => Iterable<string>)[] = [];

  constructor(private readonly manager: Manager, private readonly name: string, private readonly logger: Logger, private readonly concurrency: number) {}

  /** The primary resource, kept as the compact records `transform` makes. */
  for(resource: ResourceType, transform: (obj: KubeObject) => R | undefined, opts: ForOptions = {}): this {
    this.primary = { resource, transform, opts };
    return this;
  }

  /** Events of the primary store that fail any predicate enqueue nothing. */
  withPredicate(p: Predicate<R>): this {
    this.predicates.push(p);
    return this;
  }

  /** A secondary index on the primary store (see Store.addIndex). */
  withIndex(name: string, values: (r: R) => readonly string[]): this {
    this.indexes.push([name, values]);
    return this;
  }

  /** Another store's events enqueue the primary keys `map` returns. */
  watches<S>(store: Store<S>, map: (e: StoreEvent<S>) => Iterable<string>): this {
    this.sources.push((queue) => { store.onChange((e) => { for (const k of map(e)) queue.add(k); }); });
    return this;
  }

  /** A primary event also enqueues other primary keys (e.g. the objects that depend on this one, by an index). */
  enqueuesRelated(map: (e: StoreEvent<R>, store: Store<R>) => Iterable<string>): this {
    this.related.push(map);
    return this;
  }

  /** Objects the primary controls (ownerName: the controlling owner's name, same namespace) enqueue their owner. */
  owns<S>(store: Store<S>, ownerName: (r: S) => string | undefined): this {
    return this.watches(store, (e) => {
      const owner = ownerName(e.record);
      return owner === undefined ? [] : [keyOf(splitKey(e.key).namespace, owner)];
    });
  }

  /** Registers the store and the queue with the manager; reconciles run once the primary store has synced. */
  complete(reconcile: Reconciler): BuiltController<R> {
    if (!this.primary) throw new Error(`controller ${this.name}: for() was not called`);
    const { resource, transform, opts } = this.primary;
    const { manager, logger } = this;
    const store = new Store<R>({ client: manager.client, resource, transform, logger, metrics: manager.metrics, ...(opts.name ? { name: opts.name } : {}) });
    for (const [name, values] of this.indexes) store.addIndex(name, values);
    const queue = manager.addController({ name: this.name, concurrency: this.concurrency, logger, metrics: manager.metrics }, async (key, signal) => {
      await store.waitForSync(signal);
      return reconcile(key, signal);
    });
    store.onChange((e) => { if (this.predicates.every((p) => p(e))) queue.add(e.key); });
    for (const map of this.related) store.onChange((e) => { for (const k of map(e, store)) queue.add(k); });
    for (const s of this.sources) s(queue);
    manager.addStore(store, opts.crd ? { crd: opts.crd } : {});
    return { store, queue };
  }
}

/** Starts a controller declaration: `controller(manager, 'gitsync', log, n).for(...).withPredicate(...).complete(r)`. */
export function controller<R>(manager: Manager, name: string, logger: Logger, concurrency: number): ControllerBuilder<R> {
  return new ControllerBuilder<R>(manager, name, logger, concurrency);
}

/** The usual predicate: a new generation, a new object or a deletion; not status-only updates. */
export function generationChanged<R extends { readonly generation: number }>(e: StoreEvent<R>): boolean {
  return e.type !== 'update' || e.old.generation !== e.record.generation;
}

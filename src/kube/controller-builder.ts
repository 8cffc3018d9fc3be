// A small controller builder after controller-runtime's: for(resource) makes the primary Store (registered with the
// Manager, so readiness and the CRD wait come with it), predicates filter its events, watches/owns map other stores'
// events to primary keys, and complete(reconcile) makes the work queue, whose reconciles wait for the primary sync.
// A feature's register.ts then reads as a declaration of what it watches and what it runs.

import type { Logger } from '../observe/logger.js';
import type { CrdRequirement } from './crd-wait.js';
import type { AddStoreOptions, Manager, Runnable } from './manager.js';
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

/** A queue key, now or after a delay (a debounce window): delayed adds of one key keep the earliest deadline. */
export type Enqueue = string | { readonly key: string; readonly afterMs: number };

export interface WatchOptions {
  /** Register the store with the Manager too (started, counted for /readyz), with these options. Leave it out for
   * a store registered elsewhere (another controller's, or one the feature adds itself). */
  readonly register?: AddStoreOptions;
}

export interface BuiltController<R> {
  /** The for() store (with only forStore() primaries: the first of them). */
  readonly store: Store<R>;
  readonly queue: WorkQueue;
}

/** Only changes that matter reconcile: e.g. skip updates whose generation did not move (status writes). */
export type Predicate<R> = (e: StoreEvent<R>) => boolean;

interface Primary<R> { readonly store: Store<R>; readonly register: AddStoreOptions; readonly waitsForSync: boolean; readonly key: (e: StoreEvent<R>) => string | undefined }

export class ControllerBuilder<R> {
  private forResource: { resource: ResourceType; transform: (obj: KubeObject) => R | undefined; opts: ForOptions } | undefined;
  private readonly primaries: Primary<R>[] = [];
  private readonly predicates: Predicate<R>[] = [];
  private readonly sources: ((queue: WorkQueue) => void)[] = [];
  private readonly registered: [Store<unknown>, AddStoreOptions][] = [];
  private readonly indexes: [string, (r: R) => readonly string[]][] = [];
  private readonly related: ((e: StoreEvent<R>, store: Store<R>) => Iterable<string>)[] = [];
  private readonly readyChecks: (() => string | undefined)[] = [];
  private readonly runnables: Runnable[] = [];

  constructor(private readonly manager: Manager, private readonly name: string, private readonly logger: Logger, private readonly concurrency: number) {}

  /** The primary resource, kept as the compact records `transform` makes. */
  for(resource: ResourceType, transform: (obj: KubeObject) => R | undefined, opts: ForOptions = {}): this {
    this.forResource = { resource, transform, opts };
    return this;
  }

  /**
   * A primary store the feature built itself (its own namespace, selectors, page size), one of several: its events
   * enqueue `key(e)` (default: the store key) when the predicates pass. Its reconciles do not wait for its sync
   * (the reconciler decides what an unsynced cache means: one namespace Keelson may not list must block no other).
   */
  forStore(store: Store<R>, opts: { readonly key?: (e: StoreEvent<R>) => string | undefined; readonly register?: AddStoreOptions } = {}): this {
    this.primaries.push({ store, register: opts.register ?? {}, waitsForSync: false, key: opts.key ?? ((e) => e.key) });
    return this;
  }

  /** Events of a primary store that fail any predicate enqueue nothing. */
  withPredicate(p: Predicate<R>): this {
    this.predicates.push(p);
    return this;
  }

  /** A secondary index on the for() store (see Store.addIndex). */
  withIndex(name: string, values: (r: R) => readonly string[]): this {
    this.indexes.push([name, values]);
    return this;
  }

  /** Another store's events enqueue the keys `map` returns (now, or after a delay). */
  watches<S>(store: Store<S>, map: (e: StoreEvent<S>) => Iterable<Enqueue>, opts: WatchOptions = {}): this {
    if (opts.register) this.registered.push([store as Store<unknown>, opts.register]);
    this.sources.push((queue) => { store.onChange((e) => { for (const k of map(e)) enqueue(queue, k); }); });
    return this;
  }

  /** A primary event also enqueues other primary keys (e.g. the objects that depend on this one, by an index). */
  enqueuesRelated(map: (e: StoreEvent<R>, store: Store<R>) => Iterable<string>): this {
    this.related.push(map);
    return this;
  }

  /** Objects the primary controls (ownerName: the controlling owner's name, same namespace) enqueue their owner. */
  owns<S>(store: Store<S>, ownerName: (r: S) => string | undefined, opts: WatchOptions = {}): this {
    return this.watches(store, (e) => {
      const owner = ownerName(e.record);
      return owner === undefined ? [] : [keyOf(splitKey(e.key).namespace, owner)];
    }, opts);
  }

  /** An extra /readyz condition of this controller: a reason while not ready, undefined when ready. */
  readyWhen(check: () => string | undefined): this {
    this.readyChecks.push(check);
    return this;
  }

  /** Something that runs beside the controller (a key loader, a generator, a pool), started by the Manager. */
  runs(r: Runnable): this {
    this.runnables.push(r);
    return this;
  }

  /** Registers the stores and the queue with the manager; reconciles run once the for() store has synced. */
  complete(reconcile: Reconciler): BuiltController<R> {
    const { manager, logger } = this;
    const primaries = [...this.primaries];
    if (this.forResource) {
      const { resource, transform, opts } = this.forResource;
      const store = new Store<R>({ client: manager.client, resource, transform, logger, metrics: manager.metrics, ...(opts.name ? { name: opts.name } : {}) });
      for (const [name, values] of this.indexes) store.addIndex(name, values);
      primaries.unshift({ store, register: opts.crd ? { crd: opts.crd } : {}, waitsForSync: true, key: (e) => e.key });
    }
    if (primaries.length === 0) throw new Error(`controller ${this.name}: neither for() nor forStore() was called`);
    const waitFor = primaries.filter((p) => p.waitsForSync).map((p) => p.store);
    const queue = manager.addController({ name: this.name, concurrency: this.concurrency, logger, metrics: manager.metrics }, waitFor.length === 0 ? reconcile : async (key, signal) => {
      for (const s of waitFor) await s.waitForSync(signal);
      return reconcile(key, signal);
    });
    for (const p of primaries) {
      p.store.onChange((e) => {
        if (!this.predicates.every((pred) => pred(e))) return;
        const key = p.key(e);
        if (key !== undefined) queue.add(key);
      });
    }
    const first = primaries[0]!.store;
    for (const map of this.related) first.onChange((e) => { for (const k of map(e, first)) queue.add(k); });
    for (const s of this.sources) s(queue);
    for (const [store, opts] of this.registered) manager.addStore(store, opts);
    for (const p of primaries) manager.addStore(p.store, p.register);
    for (const check of this.readyChecks) manager.addReadyCheck(check);
    for (const r of this.runnables) manager.addRunnable(r);
    return { store: first, queue };
  }
}

function enqueue(queue: WorkQueue, k: Enqueue): void {
  if (typeof k === 'string') queue.add(k);
  else queue.addAfter(k.key, k.afterMs);
}

/** Starts a controller declaration: `controller(manager, 'gitsync', log, n).for(...).withPredicate(...).complete(r)`. */
export function controller<R>(manager: Manager, name: string, logger: Logger, concurrency: number): ControllerBuilder<R> {
  return new ControllerBuilder<R>(manager, name, logger, concurrency);
}

/** The usual predicate: a new generation, a new object or a deletion; not status-only updates. */
export function generationChanged<R extends { readonly generation: number }>(e: StoreEvent<R>): boolean {
  return e.type !== 'update' || e.old.generation !== e.record.generation;
}

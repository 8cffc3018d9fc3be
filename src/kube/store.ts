// A list+watch cache of compact records. The caller's transform keeps only what decisions need (a Secret becomes
// its identity, the labels/annotations that matter and a digest), so memory grows with the number of objects, not
// with their size. Handlers receive keys and records, never raw objects; they should only enqueue work.
//
// Lifecycle: paged LIST → "synced" → WATCH from the list's resourceVersion. A closed stream re-watches from the last
// seen resourceVersion; 410 Gone relists and emits the difference; any other error restarts with backoff. Restarts
// are counted in keelson_watch_restarts_total{resource}.

import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { backoffDelay, sleep } from './backoff.js';
import { type KubeClient, isForbidden, isGone } from './client.js';
import { type ResourceType, keyOf } from './resources.js';
import type { KubeObject } from './types.js';

export type StoreEvent<R> =
  | { readonly type: 'add'; readonly key: string; readonly record: R }
  | { readonly type: 'update'; readonly key: string; readonly record: R; readonly old: R }
  | { readonly type: 'delete'; readonly key: string; readonly record: R };

export interface StoreOptions<R> {
  readonly client: KubeClient;
  readonly resource: ResourceType;
  /** Compact record of an object, or undefined to not keep it at all (treated as absent). */
  readonly transform: (obj: KubeObject) => R | undefined;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Label for metrics and logs; default the resource's plural. */
  readonly name?: string;
  readonly pageSize?: number;
  /**
   * List and watch PartialObjectMetadata: the transform sees apiVersion, kind and metadata only, never data, spec
   * or status, so neither the LIST pages nor the watch events carry them. For consumers that need no more (sealing's
   * ownership cache of Secrets).
   */
  readonly metadataOnly?: boolean;
  readonly backoff?: { baseMs: number; maxMs: number };
}

interface Entry<R> { rv: string; record: R }

export class Store<R> {
  readonly name: string;
  private readonly entries = new Map<string, Entry<R>>();
  private readonly handlers = new Set<(e: StoreEvent<R>) => void>();
  private readonly indexers = new Map<string, (r: R) => readonly string[]>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private lastRv = '';
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private syncedFlag = false;
  private syncWaiters: (() => void)[] = [];
  private restarts = 0;
  private failure: { readonly message: string; readonly at: number } | undefined;

  constructor(private readonly opts: StoreOptions<R>) {
    this.name = opts.name ?? opts.resource.plural + (opts.namespace ? `@${opts.namespace}` : '');
  }

  get synced(): boolean { return this.syncedFlag; }
  get size(): number { return this.entries.size; }
  /** How many times the watch was restarted after an error or a closed stream (also a metric). */
  get restartCount(): number { return this.restarts; }
  /** The resource and namespace this store lists, for the manager's access checks. */
  get scope(): { readonly resource: ResourceType; readonly namespace: string | undefined } { return { resource: this.opts.resource, namespace: this.opts.namespace }; }
  /** The last list/watch failure and when it happened, until a LIST or watch event succeeds again (for readiness). */
  get lastFailure(): { readonly message: string; readonly at: number } | undefined { return this.failure; }

  get(key: string): R | undefined { return this.entries.get(key)?.record; }
  getByName(namespace: string | undefined, name: string): R | undefined { return this.get(keyOf(namespace, name)); }
  keys(): IterableIterator<string> { return this.entries.keys(); }
  *records(): IterableIterator<[string, R]> { for (const [k, e] of this.entries) yield [k, e.record]; }
  list(): R[] { return [...this.entries.values()].map((e) => e.record); }

  /** Subscribes to changes; returns the unsubscribe function. Handlers must not throw and should only enqueue. */
  onChange(handler: (e: StoreEvent<R>) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** A secondary index: values(record) are the index keys the record is filed under. Add before start(). */
  addIndex(name: string, values: (r: R) => readonly string[]): void {
    this.indexers.set(name, values);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    for (const [key, e] of this.entries) for (const v of values(e.record)) addTo(idx, v, key);
  }

  /** Keys of the records filed under `value` in index `name`. */
  byIndex(name: string, value: string): string[] {
    return [...(this.indexes.get(name)?.get(value) ?? [])];
  }

  /** Starts list+watch; after stop(), starting again resumes from the last resourceVersion seen. */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  /** Resolves once the first LIST has been loaded (or the signal aborts). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.opts;
    const policy = this.opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
    let attempt = 0;
    // A store started again after stop() resumes from its last resourceVersion; 410 makes it relist if too old.
    let needList = !this.syncedFlag;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
        }
        const started = Date.now();
        await this.opts.client.watch(this.opts.resource, {
          namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
          resourceVersion: this.lastRv, timeoutSeconds: 300 + Math.floor(Math.random() * 300), signal, metadataOnly: this.opts.metadataOnly,
        }, (ev) => {
          if (ev.type === 'BOOKMARK') { this.lastRv = ev.object?.metadata?.resourceVersion ?? this.lastRv; return; }
          const obj = ev.object as KubeObject;
          if (ev.type === 'DELETED') this.remove(obj); else this.upsert(obj);
          attempt = 0;
          this.failure = undefined;
        });
        if (signal.aborted) break;
        // A closed stream is normal (server timeout); re-watch from where we were, without backoff if it lived a while.
        this.countRestart('stream closed');
        if (Date.now() - started < 1000) await sleep(backoffDelay(policy, attempt++), signal);
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          logger.info({ resource: this.name }, 'watch resourceVersion expired (410); relisting');
          needList = true;
          this.countRestart('410 gone');
          continue;
        }
        this.countRestart(err instanceof Error ? err.message : String(err));
        this.failure = { message: errSummary(err), at: Date.now() };
        if (isForbidden(err)) this.opts.metrics?.apiForbidden.inc({ resource: this.opts.resource.plural, namespace: this.opts.namespace ?? '' });
        const delay = backoffDelay(policy, attempt++);
        logger.warn({ resource: this.name, err: errSummary(err), retryInMs: delay }, isForbidden(err)
          ? `list/watch of ${this.name} forbidden: grant list and watch on ${this.opts.resource.plural} to Keelson's ServiceAccount`
          : `list/watch of ${this.name} failed; retrying`);
        // After a connection error the next watch resumes from the last resourceVersion, as client-go's reflector
        // does; if the server no longer has that version it answers 410 and we relist then. A failed LIST retries.
        await sleep(delay, signal);
      }
    }
  }

  private countRestart(reason: string): void {
    this.restarts++;
    this.opts.metrics?.watchRestarts.inc({ resource: this.opts.resource.plural });
    this.opts.logger.debug({ resource: this.name, reason }, 'watch restarted');
  }

  /** Loads every page, replaces the cache and emits the difference to what was there before. */
  private async relist(signal: AbortSignal): Promise<void> {
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    const fresh: [string, string, R][] = [];
    do {
      if (signal.aborted) return;
      // Items stream into records as the page arrives: only one object is ever parsed at a time.
      const page = await this.opts.client.listEach(this.opts.resource, {
        namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize ?? 500, continue: cont, metadataOnly: this.opts.metadataOnly, signal,
      }, (obj) => {
        const key = keyOf(obj.metadata.namespace, obj.metadata.name!);
        const record = this.opts.transform(obj);
        if (record === undefined) return;
        seen.add(key);
        fresh.push([key, obj.metadata.resourceVersion ?? '', record]);
      });
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    for (const [key, itemRv, record] of fresh) this.put(key, itemRv, record);
    for (const key of [...this.entries.keys()]) {
      if (!seen.has(key)) {
        const old = this.entries.get(key)!;
        this.delete(key, old.record);
      }
    }
    this.lastRv = rv;
    this.failure = undefined;
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.opts.logger.debug({ resource: this.name, objects: this.entries.size }, 'cache synced');
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private upsert(obj: KubeObject): void {
    const key = keyOf(obj.metadata.namespace, obj.metadata.name!);
    const rv = obj.metadata.resourceVersion ?? '';
    if (rv) this.lastRv = rv;
    const record = this.opts.transform(obj);
    if (record === undefined) {
      const old = this.entries.get(key);
      if (old) this.delete(key, old.record);
      return;
    }
    this.put(key, rv, record);
  }

  private remove(obj: KubeObject): void {
    const key = keyOf(obj.metadata.namespace, obj.metadata.name!);
    if (obj.metadata.resourceVersion) this.lastRv = obj.metadata.resourceVersion;
    const old = this.entries.get(key);
    if (old) this.delete(key, old.record);
  }

  private put(key: string, rv: string, record: R): void {
    const old = this.entries.get(key);
    if (old && old.rv === rv && rv !== '') return; // relist of an unchanged object: nothing happened
    this.entries.set(key, { rv, record });
    this.reindex(key, old?.record, record);
    this.emit(old ? { type: 'update', key, record, old: old.record } : { type: 'add', key, record });
  }

  private delete(key: string, record: R): void {
    this.entries.delete(key);
    this.reindex(key, record, undefined);
    this.emit({ type: 'delete', key, record });
  }

  private reindex(key: string, before: R | undefined, after: R | undefined): void {
    for (const [name, values] of this.indexers) {
      const idx = this.indexes.get(name)!;
      if (before !== undefined) for (const v of values(before)) removeFrom(idx, v, key);
      if (after !== undefined) for (const v of values(after)) addTo(idx, v, key);
    }
  }

  private emit(e: StoreEvent<R>): void {
    for (const h of this.handlers) {
      try { h(e); } catch (err) { this.opts.logger.error({ err, resource: this.name, key: e.key }, 'store handler threw'); }
    }
  }
}

function addTo(idx: Map<string, Set<string>>, v: string, key: string): void {
  let s = idx.get(v);
  if (!s) idx.set(v, (s = new Set()));
  s.add(key);
}

function removeFrom(idx: Map<string, Set<string>>, v: string, key: string): void {
  const s = idx.get(v);
  if (!s) return;
  s.delete(key);
  if (s.size === 0) idx.delete(v);
}

function errSummary(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

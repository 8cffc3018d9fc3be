// Kubernetes Events for `kubectl describe`. Repeats of the same (object, type, reason, message) within ten minutes
// bump the count of the first Event instead of creating new ones, as client-go's correlator does.

import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observe/logger.js';
import type { KubeClient } from './client.js';
import { EVENTS } from './resources.js';
import type { KubeObject } from './types.js';
import { errorText } from './errors.js';

export type EventType = 'Normal' | 'Warning';

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

export function involvedObjectOf(obj: KubeObject): InvolvedObject {
  return { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', namespace: obj.metadata.namespace, name: obj.metadata.name!, uid: obj.metadata.uid };
}

interface Seen { name: string; namespace: string; count: number }

/** A listener offered every Event Keelson records (notifications); it must only enqueue, never block or throw. */
export type EventListener = (obj: InvolvedObject, type: EventType, reason: string, message: string) => void;

export class EventRecorder {
  private readonly seen = new LRUCache<string, Seen>({ max: 4096, ttl: 10 * 60_000 });
  private readonly listeners: EventListener[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    private readonly component = 'keelson',
    private readonly instance = 'keelson',
  ) {}

  /** Adds a listener that is offered every Event recorded from now on (before it is written to the API). */
  onRecord(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** Records an Event; never throws (an Event is best-effort and must not fail a reconcile). */
  async record(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.namespace || 'default';
    const msg = message.length > 1024 ? message.slice(0, 1021) + '...' : message;
    for (const l of this.listeners) {
      try { l(obj, type, reason, msg); } catch (err) { this.logger.error({ err, reason }, 'event listener threw'); }
    }
    const id = `${obj.uid ?? `${obj.kind}/${namespace}/${obj.name}`}\u0000${type}\u0000${reason}\u0000${msg}`;
    const now = new Date().toISOString();
    try {
      const prev = this.seen.get(id);
      if (prev) {
        prev.count++;
        await this.client.patch(EVENTS, prev.namespace, prev.name, 'merge', { count: prev.count, lastTimestamp: now });
        return;
      }
      const name = `${obj.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`.slice(0, 253);
      await this.client.create(EVENTS, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { ...obj, namespace: obj.namespace },
        type, reason, message: msg, count: 1,
        firstTimestamp: now, lastTimestamp: now,
        source: { component: this.component },
        reportingComponent: this.component, reportingInstance: this.instance,
      });
      this.seen.set(id, { name, namespace, count: 1 });
    } catch (err) {
      this.seen.delete(id);
      this.logger.warn({ object: `${obj.kind} ${namespace}/${obj.name}`, reason, err: errorText(err) }, 'could not record event');
    }
  }
}

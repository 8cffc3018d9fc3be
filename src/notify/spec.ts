// The Notifier custom resource (keelson.dev/v1alpha1) as the dispatcher sees it: a compact, validated record kept in
// a Store, and the pure rule deciding which Notifiers hear an Event. Tenants write Notifiers, so every field is
// checked and bounded here; an invalid one becomes a record carrying the reason, shown in its Ready condition.

import type { KubeObject } from '../kube/types.js';

export const NOTIFIER_TYPES = ['slack', 'msteams', 'googlechat', 'webhook', 'alertmanager'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];

/** Reasons a Notifier may list; others are accepted too (any reason Keelson records), these are documented. */
export const KNOWN_REASONS = [
  'Reloaded', 'RolloutComplete', 'RolloutFailed', 'Synced', 'SyncFailed', 'HealthCheckFailed', 'DependencyNotReady',
  'DriftCorrected', 'Unsealed', 'UnsealFailed', 'InvalidAnnotation',
] as const;

const MAX_EVENTS = 32;
const REASON = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface NotifierRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly generation: number;
  readonly type: NotifierType;
  readonly secretName: string;
  /** Reasons to hear; undefined: failures only (every Warning Event). */
  readonly events: readonly string[] | undefined;
  readonly suspend: boolean;
  readonly allNamespaces: boolean;
  /** Set when the spec is invalid: the Notifier hears nothing and its Ready condition says why. */
  readonly invalid?: string;
}

/** The compact record of a Notifier object (never undefined: invalid specs are kept to report them). */
export function notifierRecord(obj: KubeObject): NotifierRecord {
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const base = {
    namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '',
    generation: obj.metadata.generation ?? 0, suspend: spec.suspend === true, allNamespaces: spec.allNamespaces === true,
  };
  const type = spec.type;
  const secretName = (spec.secretRef as { name?: unknown } | undefined)?.name;
  const events = spec.events;
  const invalid = (why: string): NotifierRecord => ({ ...base, type: 'webhook', secretName: '', events: [], invalid: why });
  if (typeof type !== 'string' || !(NOTIFIER_TYPES as readonly string[]).includes(type)) {
    return invalid(`spec.type must be one of ${NOTIFIER_TYPES.join(', ')}`);
  }
  if (typeof secretName !== 'string' || !NAME.test(secretName)) return invalid('spec.secretRef.name must name a Secret in the Notifier\'s namespace');
  if (events !== undefined) {
    if (!Array.isArray(events) || events.length > MAX_EVENTS) return invalid(`spec.events must be a list of at most ${MAX_EVENTS} Event reasons`);
    for (const e of events) if (typeof e !== 'string' || !REASON.test(e)) return invalid(`spec.events: "${String(e).slice(0, 64)}" is not an Event reason (letters and digits, e.g. RolloutFailed)`);
  }
  return { ...base, type: type as NotifierType, secretName, events: events === undefined || events.length === 0 ? undefined : [...new Set(events as string[])] };
}

/** What the dispatcher knows of one recorded Event. */
export interface NotifyEvent {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/**
 * The reasons an Event answers to: its own, plus the family names users subscribe to. Any Warning on a GitSync is a
 * SyncFailed (each sync failure has its own reason, e.g. ApplyFailed); the sealing controller's Err* reasons are
 * UnsealFailed.
 */
export function reasonsOf(e: NotifyEvent): string[] {
  const out = [e.reason];
  if (e.kind === 'GitSync' && e.type === 'Warning' && e.reason !== 'SyncFailed') out.push('SyncFailed');
  if (e.kind === 'SealedSecret' && e.type === 'Warning' && e.reason !== 'UnsealFailed') out.push('UnsealFailed');
  return out;
}

/**
 * Whether a Notifier hears an Event: not suspended, valid, in the Event's namespace (or in the controller namespace
 * with spec.allNamespaces), and the reason listed (no list: Warnings only).
 */
export function hears(n: NotifierRecord, e: NotifyEvent, controllerNamespace: string): boolean {
  if (n.suspend || n.invalid) return false;
  const scoped = n.namespace === e.namespace || (n.allNamespaces && n.namespace === controllerNamespace);
  if (!scoped) return false;
  if (n.events === undefined) return e.type === 'Warning';
  const rs = reasonsOf(e);
  return n.events.some((r) => rs.includes(r));
}

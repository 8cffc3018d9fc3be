// The exactly-once decision, pure. The baseline lives on the workload (annotation keelson.dev/observed: the
// selection fingerprint, the config hash and a short digest per trigger, "-" for one that does not exist), so a
// restart, a relist or a duplicate event compares the same two states and reaches the same answer.

import { workloadDigest } from './digest.js';
import type { ConfigKind } from './references.js';

export interface Observed {
  readonly v: 1;
  /** TriggerPolicy.selection when this was recorded. */
  readonly sel: string;
  /** workloadDigest of the triggers that existed. */
  readonly hash: string;
  /** "ConfigMap/name" → first 16 hex digits of its content digest, or "-" while it does not exist. */
  readonly configs: Readonly<Record<string, string>>;
}

export const ABSENT = '-';
export const shortDigest = (d: string): string => d.slice(0, 16);

export function parseObserved(text: string | undefined): Observed | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as Partial<Observed>;
    if (o.v !== 1 || typeof o.sel !== 'string' || typeof o.hash !== 'string' || !o.configs || typeof o.configs !== 'object') return undefined;
    for (const v of Object.values(o.configs)) if (typeof v !== 'string') return undefined;
    return o as Observed;
  } catch {
    return undefined;
  }
}

/** Keys in a fixed order so the same state always serialises to the same text (and identical writes are skipped). */
export function formatObserved(o: Observed): string {
  const configs: Record<string, string> = {};
  for (const k of Object.keys(o.configs).sort()) configs[k] = o.configs[k]!;
  return JSON.stringify({ v: 1, sel: o.sel, hash: o.hash, configs });
}

export interface TriggerState {
  readonly id: string;
  readonly kind: ConfigKind;
  readonly namespace: string;
  readonly name: string;
  /** Content digest now, undefined when the config does not exist. */
  readonly digest: string | undefined;
  /** It triggers because a named list matches it (not only through a reference). */
  readonly named: boolean;
}

export type Change = 'changed' | 'created' | 'deleted';
export interface Cause { readonly id: string; readonly change: Change }

export type Decision =
  | { readonly action: 'none' }
  /** Write the baseline without touching the pod template. */
  | { readonly action: 'record'; readonly observed: Observed; readonly why: 'first-sight' | 'baseline-update' }
  /** Not a reload target any more: remove the baseline so adding the annotation again is a first sight. */
  | { readonly action: 'forget' }
  | { readonly action: 'roll'; readonly observed: Observed; readonly causes: readonly Cause[]; readonly previousHash: string };

export interface DecideInput {
  readonly active: boolean;
  readonly selection: string;
  readonly observed: Observed | undefined;
  readonly triggers: readonly TriggerState[];
  readonly reloadOnCreate: boolean;
  readonly reloadOnDelete: boolean;
}

export function nextObserved(selection: string, triggers: readonly TriggerState[]): Observed {
  const configs: Record<string, string> = {};
  for (const t of triggers) configs[t.id] = t.digest === undefined ? ABSENT : shortDigest(t.digest);
  const present = triggers.filter((t) => t.digest !== undefined).map((t) => ({ kind: t.kind, namespace: t.namespace, name: t.name, digest: t.digest! }));
  return { v: 1, sel: selection, hash: workloadDigest(present), configs };
}

export function decide(input: DecideInput): Decision {
  const { observed, triggers } = input;
  if (!input.active) return observed ? { action: 'forget' } : { action: 'none' };
  const next = nextObserved(input.selection, triggers);
  if (!observed) return triggers.length === 0 ? { action: 'none' } : { action: 'record', observed: next, why: 'first-sight' };
  const causes: Cause[] = [];
  for (const t of triggers) {
    const before = observed.configs[t.id];
    const now = next.configs[t.id]!;
    if (before === undefined) {
      // New to the trigger set. A new reference comes with a pod-template change (which rolls by itself), and a
      // changed named list is the user's edit: both only extend the baseline. A config that newly matches an
      // unchanged named pattern was created.
      if (input.reloadOnCreate && t.named && now !== ABSENT && observed.sel === input.selection) causes.push({ id: t.id, change: 'created' });
      continue;
    }
    if (before === now) continue;
    if (before === ABSENT) { if (input.reloadOnCreate) causes.push({ id: t.id, change: 'created' }); }
    else if (now === ABSENT) { if (input.reloadOnDelete) causes.push({ id: t.id, change: 'deleted' }); }
    else causes.push({ id: t.id, change: 'changed' });
  }
  if (causes.length > 0) return { action: 'roll', observed: next, causes, previousHash: observed.hash };
  if (formatObserved(next) !== formatObserved(observed)) return { action: 'record', observed: next, why: 'baseline-update' };
  return { action: 'none' };
}

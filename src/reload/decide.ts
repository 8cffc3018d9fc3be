// The exactly-once decision, pure. The baseline lives on the workload (annotation keelson.dev/observed: the
// selection fingerprint, the config hash and a short digest per trigger, "-" (plus the digest the pods still hold)
// for one that does not exist), so a restart, a relist or a duplicate event compares the same two states and reaches
// the same answer.
// Baselines are versioned: v1 holds plain SHA-256 digests (written before keyed digests), v2 holds HMACs under the
// key named by `kid`. A baseline in another form than the current one is compared in its own form when Keelson can
// compute it (v1 always; an earlier key while it is known), then re-recorded in the current form without a roll.

import { type DigestForm, PLAIN_FORM, digestHex } from './digest.js';
import type { ConfigKind } from './references.js';

export interface Observed {
  /** 1: plain digests; 2: keyed digests under `kid`. */
  readonly v: 1 | 2;
  readonly kid?: string;
  /** TriggerPolicy.selection when this was recorded. */
  readonly sel: string;
  /** The config hash (DigestForm.workload) of the triggers that existed. */
  readonly hash: string;
  /**
   * "ConfigMap/name" → first 16 hex digits of its published digest; while it does not exist, "-" followed by the
   * digest the pods still hold (it was deleted without a roll), or "-" alone (never seen, or a roll happened while
   * it was absent, so pods mount whatever is created next).
   */
  readonly configs: Readonly<Record<string, string>>;
}

export const ABSENT = '-';
/** True for "-" and for "-<digest held by the pods>". */
export const isAbsent = (recorded: string): boolean => recorded.startsWith(ABSENT);
export const shortDigest = (published: string): string => digestHex(published).slice(0, 16);

export function parseObserved(text: string | undefined): Observed | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as Partial<Observed>;
    if ((o.v !== 1 && o.v !== 2) || typeof o.sel !== 'string' || typeof o.hash !== 'string' || !o.configs || typeof o.configs !== 'object') return undefined;
    if (o.v === 2 && typeof o.kid !== 'string') return undefined;
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
  return o.v === 1
    ? JSON.stringify({ v: 1, sel: o.sel, hash: o.hash, configs })
    : JSON.stringify({ v: 2, kid: o.kid, sel: o.sel, hash: o.hash, configs });
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
  /**
   * Its content was seen to change (a watch update, not its creation) since the baseline was last written. Read only
   * when the baseline says it did not exist: it was created and then changed before the baseline caught up.
   */
  readonly changedSinceCreated?: boolean;
}

export type Change = 'changed' | 'created' | 'deleted';
/**
 * first-sight: no baseline yet. baseline-update: the trigger set or a non-rolling change moved it. upgrade: a v1
 * (plain) baseline re-recorded keyed. key-change: a baseline under an earlier, still known key re-recorded under the
 * current one. unknown-key: a baseline under a key Keelson no longer has, re-recorded without comparing.
 */
export type RecordWhy = 'first-sight' | 'baseline-update' | 'upgrade' | 'key-change' | 'unknown-key';
export interface Cause { readonly id: string; readonly change: Change }

export type Decision =
  | { readonly action: 'none' }
  /** Write the baseline without touching the pod template. */
  | { readonly action: 'record'; readonly observed: Observed; readonly why: RecordWhy }
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
  /** The form baselines are written in now (keyed under the current key; PLAIN_FORM only in tests). */
  readonly form: DigestForm;
  /** Earlier keyed forms still known (the key Secret's `previous`, keys seen since start), to read older baselines. */
  readonly earlierForms?: readonly DigestForm[];
}

/** The baseline of these triggers in a form. `digest` of a trigger is the plain content digest (never published). */
export function nextObserved(selection: string, triggers: readonly TriggerState[], form: DigestForm = PLAIN_FORM): Observed {
  const configs: Record<string, string> = {};
  for (const t of triggers) configs[t.id] = t.digest === undefined ? ABSENT : shortDigest(form.config(t.digest));
  const present = triggers.filter((t) => t.digest !== undefined).map((t) => ({ kind: t.kind, namespace: t.namespace, name: t.name, digest: t.digest! }));
  const hash = form.workload(present);
  return form.kid === undefined ? { v: 1, sel: selection, hash, configs } : { v: 2, kid: form.kid, sel: selection, hash, configs };
}

/** The form a recorded baseline was written in, when Keelson can still compute it. */
function formOf(observed: Observed, input: DecideInput): DigestForm | undefined {
  if (observed.v === 1) return PLAIN_FORM;
  if (observed.kid === input.form.kid) return input.form;
  return input.earlierForms?.find((f) => f.kid !== undefined && f.kid === observed.kid);
}

export function decide(input: DecideInput): Decision {
  const { observed, triggers } = input;
  if (!input.active) return observed ? { action: 'forget' } : { action: 'none' };
  const next = nextObserved(input.selection, triggers, input.form);
  if (!observed) return triggers.length === 0 ? { action: 'none' } : { action: 'record', observed: next, why: 'first-sight' };
  const form = formOf(observed, input);
  // A key Keelson no longer has: nothing to compare with, and rolling would restart every workload of the cluster.
  if (!form) return { action: 'record', observed: next, why: 'unknown-key' };
  const comparable = form === input.form ? next : nextObserved(input.selection, triggers, form);
  const causes: Cause[] = [];
  for (const t of triggers) {
    const before = observed.configs[t.id];
    const now = comparable.configs[t.id]!;
    if (before === undefined) {
      // New to the trigger set. A new reference comes with a pod-template change (which rolls by itself), and a
      // changed named list is the user's edit: both only extend the baseline. A config that newly matches an
      // unchanged named pattern was created.
      if (input.reloadOnCreate && t.named && now !== ABSENT && observed.sel === input.selection) causes.push({ id: t.id, change: 'created' });
      continue;
    }
    if (before === now) continue;
    if (isAbsent(before)) {
      if (now === ABSENT) continue;
      const held = before.slice(ABSENT.length);
      if (held) {
        // Deleted without a roll and re-created: the pods still hold `held`. Other content is a change (a change
        // pending when the config was deleted would otherwise be lost); the same content is only a creation.
        if (now !== held) causes.push({ id: t.id, change: 'changed' });
        else if (input.reloadOnCreate) causes.push({ id: t.id, change: 'created' });
      }
      // Created and then changed inside one debounce window (or while the queue was busy): pods that started on
      // the first content hold it, so the later change rolls like any change (without it, this roll is lost).
      else if (t.changedSinceCreated) causes.push({ id: t.id, change: 'changed' });
      else if (input.reloadOnCreate) causes.push({ id: t.id, change: 'created' });
    }
    else if (now === ABSENT) { if (input.reloadOnDelete) causes.push({ id: t.id, change: 'deleted' }); }
    else causes.push({ id: t.id, change: 'changed' });
  }
  // A roll restarts pods while a config is absent: they mount whatever is created next, so no content is held. What
  // that is, only a replica that sees the creation knows (changedSinceCreated): a creation followed by other content
  // before any decision saw it, across a failover, is the one sequence no baseline tells apart: the baseline then
  // records content the pods never mounted, so the pods may keep the first content (a lost roll) or, when the config
  // goes back to it, restart once more for content they already hold (an extra roll); the next roll ends it.
  if (causes.length > 0) return { action: 'roll', observed: next, causes, previousHash: observed.hash };
  const kept = form === input.form ? withHeldContent(next, observed) : next;
  if (form !== input.form) return { action: 'record', observed: kept, why: form === PLAIN_FORM ? 'upgrade' : 'key-change' };
  if (formatObserved(kept) !== formatObserved(observed)) return { action: 'record', observed: kept, why: 'baseline-update' };
  return { action: 'none' };
}

/**
 * Without a roll, a config that is absent now keeps in the baseline the content the pods hold: the digest recorded
 * while it existed, or the one already kept. (In another form the old digest cannot be translated, so a baseline
 * moved to a new key forgets it: a re-create after a key change then follows the "-" rules.)
 */
function withHeldContent(next: Observed, observed: Observed): Observed {
  let configs: Record<string, string> | undefined;
  for (const [id, now] of Object.entries(next.configs)) {
    const before = observed.configs[id];
    if (now !== ABSENT || before === undefined || before === ABSENT) continue;
    (configs ??= { ...next.configs })[id] = isAbsent(before) ? before : ABSENT + before;
  }
  return configs ? { ...next, configs } : next;
}

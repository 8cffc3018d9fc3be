// The chaos soak's pure half: a seeded schedule of config changes and faults, and the oracle that decides, from the
// schedule (plus the measured outage windows), which content states each workload must roll to, then judges what a
// watch on the workloads saw. No I/O, so a failing seed replays to the same schedule and verdict rules.

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export type ConfigOp = 'content' | 'metadata' | 'identical' | 'recreate';
export type FaultKind = 'kill-leader' | 'kill-standby' | 'term-leader' | 'api-restart' | 'compaction' | 'pause-leader';
export const FAULT_KINDS: readonly FaultKind[] = ['kill-leader', 'kill-standby', 'term-leader', 'api-restart', 'compaction', 'pause-leader'];
export type Strategy = 'annotations' | 'env-vars';

export interface WorkloadPlan {
  readonly name: string;
  readonly kind: WorkloadKind;
  /** keelson.dev/debounce on the workload, or undefined for the controller's --debounce. */
  readonly debounce: string | undefined;
  readonly debounceMs: number;
}

export interface ChangeStep {
  /** Planned start, ms after the schedule starts. */
  readonly at: number;
  readonly workload: number;
  readonly op: ConfigOp;
  readonly target: 'ConfigMap' | 'Secret';
  /** Content version of the target after the step (a content step increments it; the others keep it). */
  readonly version: number;
  /** recreate: how long the config stays deleted. */
  readonly gapMs: number;
}

export interface FaultStep {
  readonly at: number;
  readonly kind: FaultKind;
  /** How long a killed or stopped replica stays down before it is started again. */
  readonly restartDelayMs: number;
}

export interface Schedule {
  readonly seed: number;
  readonly durationMs: number;
  readonly strategy: Strategy;
  /** The controller's --debounce, in ms. */
  readonly defaultDebounceMs: number;
  /** Minimum time between two bursts of changes to one workload. */
  readonly burstGapMs: number;
  readonly workloads: readonly WorkloadPlan[];
  readonly changes: readonly ChangeStep[];
  readonly faults: readonly FaultStep[];
}

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly workloads: number;
  readonly durationMs: number;
  /** Faults in all, spread evenly over the run with each kind equally often (shuffled). */
  readonly faults: number;
  readonly strategy?: Strategy;
  readonly defaultDebounceMs?: number;
  readonly burstGapMs?: number;
}

const KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
const DEBOUNCES: readonly (readonly [string | undefined, number])[] = [[undefined, -1], ['300ms', 300], ['2s', 2000]];

export function makeSchedule(o: ScheduleOptions): Schedule {
  const rnd = prng(o.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const defaultDebounceMs = o.defaultDebounceMs ?? 1000;
  const burstGapMs = o.burstGapMs ?? 12_000;
  const strategy = o.strategy ?? (rnd() < 0.5 ? 'annotations' : 'env-vars');
  const workloads: WorkloadPlan[] = [];
  for (let i = 0; i < o.workloads; i++) {
    const [debounce, ms] = pick(DEBOUNCES);
    workloads.push({ name: `w${String(i).padStart(3, '0')}`, kind: KINDS[i % KINDS.length]!, debounce, debounceMs: ms < 0 ? defaultDebounceMs : ms });
  }
  const changes: ChangeStep[] = [];
  const endBy = o.durationMs - 2000;
  workloads.forEach((_, w) => {
    const version = { ConfigMap: 0, Secret: 0 };
    let t = int(500, Math.min(burstGapMs, Math.max(1000, o.durationMs / 3)));
    while (t < endBy) {
      // A burst: 1-3 steps closer together than any debounce window; a recreate is always alone.
      const steps = int(1, 3);
      for (let s = 0; s < steps && t < endBy; s++) {
        const r = rnd();
        const op: ConfigOp = r < 0.55 ? 'content' : r < 0.7 ? 'metadata' : r < 0.85 ? 'identical' : 'recreate';
        const target = rnd() < 0.5 ? 'ConfigMap' : 'Secret';
        if (op === 'recreate' && s > 0) break;
        if (op === 'content') version[target]++;
        changes.push({ at: t, workload: w, op, target, version: version[target], gapMs: op === 'recreate' ? int(200, 1500) : 0 });
        if (op === 'recreate') break;
        t += int(50, 250);
      }
      t += burstGapMs + int(0, burstGapMs / 2);
    }
  });
  changes.sort((a, b) => a.at - b.at || a.workload - b.workload);
  // Each kind equally often, shuffled, evenly spaced with jitter.
  const kinds: FaultKind[] = [];
  for (let i = 0; i < o.faults; i++) kinds.push(FAULT_KINDS[i % FAULT_KINDS.length]!);
  for (let i = kinds.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!]; }
  const spacing = o.faults > 0 ? (o.durationMs - 3000) / o.faults : 0;
  const faults: FaultStep[] = kinds.map((kind, i) => ({ at: Math.round(2000 + i * spacing + rnd() * spacing * 0.3), kind, restartDelayMs: int(200, 2500) }));
  return { seed: o.seed, durationMs: o.durationMs, strategy, defaultDebounceMs, burstGapMs, workloads, changes, faults };
}

// ---- the oracle ----

/** A content state of one workload: the content versions of its ConfigMap and Secret (ABSENT while deleted). */
export const ABSENT = -1;
export interface ContentState { readonly cm: number; readonly secret: number }
export const stateKey = (s: ContentState): string => `cm${s.cm}/s${s.secret}`;

export interface AppliedChange {
  readonly step: ChangeStep;
  /** When the write (for recreate: the re-create) succeeded, ms after the schedule started. */
  readonly doneAt: number;
  /** recreate: when the delete succeeded. */
  readonly deletedAt?: number;
}

export interface ExpectedRolls {
  /** The final content state of each burst that must roll, in order. */
  readonly expected: readonly ContentState[];
  /** Every content state the workload went through (a roll to any of these, in order, is allowed). */
  readonly reached: readonly ContentState[];
  readonly final: ContentState;
  /**
   * The template values the workload may end at: the final content, or the final content with a config absent when
   * that config was deleted and re-created (same content) after the last content change. A roll made while a config
   * is deleted names only the present configs; its pods mount the re-created config, and re-creating the same
   * content does not roll again (with --reload-on-create off).
   */
  readonly finalAccepted: readonly ContentState[];
  /** Each state with a config absent → the content state it was deleted from (and re-created to). */
  readonly deletedFrom: Readonly<Record<string, string>>;
  readonly contentChanges: number;
}

/**
 * Coalescing rule (conservative): changes of one workload form bursts; a burst ends at its last change, and it is
 * its own burst only if after it there are `settleMs` (the workload's debounce plus a margin) of time with a leader
 * running and no outage before the next change. Otherwise it merges into the next. Each burst whose final content
 * differs from the last expected state must roll to exactly that content; states inside a burst may roll or not.
 * A change still pending when its config is deleted and re-created is owed like any other: Keelson keeps the digest
 * the pods hold while a config is absent, so the re-create rolls when its content differs from it.
 */
export function expectedRolls(changes: readonly AppliedChange[], outages: readonly (readonly [number, number])[], settleMs: number, horizon: number): ExpectedRolls {
  const sorted = [...changes].sort((a, b) => a.doneAt - b.doneAt);
  let state: ContentState = { cm: 0, secret: 0 };
  const reached: ContentState[] = [];
  const bursts: ContentState[] = [];
  let contentChanges = 0;
  let finalAccepted: ContentState[] = [state];
  const deletedFrom: Record<string, string> = {};
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i]!;
    if (c.step.op === 'recreate') {
      // While deleted the workload may roll (a change still pending); the re-create itself never rolls.
      const absent = c.step.target === 'ConfigMap' ? { ...state, cm: ABSENT } : { ...state, secret: ABSENT };
      reached.push(absent);
      finalAccepted.push(absent);
      deletedFrom[stateKey(absent)] ??= stateKey(state);
    }
    if (c.step.op === 'content') {
      state = c.step.target === 'ConfigMap' ? { ...state, cm: c.step.version } : { ...state, secret: c.step.version };
      reached.push(state);
      contentChanges++;
      finalAccepted = [state];
    }
    const next = sorted[i + 1]?.deletedAt ?? sorted[i + 1]?.doneAt ?? horizon;
    if (calmSpan(c.doneAt, next, outages) >= settleMs) bursts.push(state);
  }
  const expected: ContentState[] = [];
  let last = stateKey({ cm: 0, secret: 0 });
  for (const b of bursts) if (stateKey(b) !== last) { last = stateKey(b); expected.push(b); }
  return { expected, reached, final: state, finalAccepted, deletedFrom, contentChanges };
}

/** The longest stretch within [from, to] that no outage covers. */
export function calmSpan(from: number, to: number, outages: readonly (readonly [number, number])[]): number {
  const cuts = outages.filter(([a, b]) => b > from && a < to).sort((x, y) => x[0] - y[0]);
  let best = 0;
  let cursor = from;
  for (const [a, b] of cuts) {
    best = Math.max(best, Math.min(a, to) - cursor);
    cursor = Math.max(cursor, b);
  }
  return Math.max(best, to - cursor);
}

export interface WorkloadVerdict {
  readonly workload: string;
  readonly kind: WorkloadKind;
  readonly contentChanges: number;
  readonly expectedRolls: number;
  readonly rollsSeen: number;
  readonly lost: readonly string[];
  readonly extra: readonly string[];
  readonly finalOk: boolean;
}

/**
 * Judges one workload. `seen` is the sequence of content states its pod template rolled to (undefined: a template
 * value that matches no state the workload ever had). Lost: an expected state never rolled to (a roll made while one
 * of its configs was deleted and then re-created with the same content counts), or a final template that is not the
 * final content (see ExpectedRolls.finalAccepted). Extra: a roll to a state never reached, to the initial state, or
 * back to an earlier state (which includes the same state twice).
 */
export function judge(name: string, kind: WorkloadKind, exp: ExpectedRolls, seen: readonly (ContentState | undefined)[]): WorkloadVerdict {
  const order = new Map<string, number>();
  exp.reached.forEach((s, i) => { if (!order.has(stateKey(s))) order.set(stateKey(s), i); });
  const extra: string[] = [];
  let lastIndex = -1;
  const seenKeys = new Set<string>();
  for (const s of seen) {
    if (s === undefined) { extra.push('a template value matching no content state'); continue; }
    const i = order.get(stateKey(s));
    if (i === undefined) { extra.push(`roll to ${stateKey(s)}, a state the workload never reached by a content change`); continue; }
    if (i <= lastIndex) extra.push(`roll to ${stateKey(s)} after a later state (repeated or out of order)`);
    lastIndex = Math.max(lastIndex, i);
    seenKeys.add(stateKey(s));
  }
  // A roll made while a config of `s` was deleted names the others only; its pods mount the re-created config.
  const rolledTo = (s: ContentState) => seenKeys.has(stateKey(s)) || [...seenKeys].some((k) => exp.deletedFrom[k] === stateKey(s));
  const lost = exp.expected.filter((s) => !rolledTo(s)).map((s) => `no roll to ${stateKey(s)}`);
  const lastSeen = seen.at(-1);
  const finalOk = exp.contentChanges === 0 ? seen.length === 0
    : lastSeen !== undefined && exp.finalAccepted.some((s) => stateKey(s) === stateKey(lastSeen));
  if (!finalOk) lost.push(`final template is ${lastSeen ? stateKey(lastSeen) : 'unrolled'}, final content is ${stateKey(exp.final)}`);
  return { workload: name, kind, contentChanges: exp.contentChanges, expectedRolls: exp.expected.length, rollsSeen: seen.length, lost, extra, finalOk };
}

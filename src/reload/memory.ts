// What the reload controller remembers per workload key between events and reconciles, in one record per key: only
// what the cluster cannot hold (an observation time, a reserved rate-limit slot, a watch-seen change that no
// baseline records yet). Everything else is read from the caches and the workload's own annotations each time.

import { type Observed, isAbsent } from './decide.js';

/** One workload's memory; every field is optional and is dropped once its purpose is served. */
interface Entry {
  /** When a content change concerning it was first observed: opens its debounce window and starts the latency
   * metric. Kept until the roll (or a decision that nothing rolls). */
  since?: number;
  /** Its reserved --max-rolls-per-second slot (absolute time), so a requeue does not reserve a second one. */
  slot?: number;
  /** Trigger ids whose content a watch update changed since its baseline was written. The baseline alone cannot
   * tell "created" from "created, then changed" inside one debounce window; the second must roll. Cleared once a
   * written baseline holds the config's content. */
  changed?: Set<string>;
  /** Its roll write just met a 409: the retry has passed debounce and the rate limit already. */
  retryingRoll?: boolean;
  /** The last invalid-annotation warning sent (uid and text): one Warning event per set of problems. */
  warned?: string;
  /** Its first reconcile in this process has happened (a rollout in progress at a restart is resumed then). */
  seen?: boolean;
}

export class ReloadMemory {
  private readonly entries = new Map<string, Entry>();

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = {}));
    return e;
  }

  /** Workloads with any memory: bounded by the workloads in the caches (forget() drops the rest). */
  get size(): number { return this.entries.size; }

  /**
   * A content change concerning the workload was observed now. The first one opens the window; later ones inside it
   * do not move it (a steady stream still rolls once per window). A window older than twice the debounce was never
   * acted on here — this replica was the standby, paused, or without a leader — so a new change re-opens it at now:
   * otherwise the first reconcile after a failover would roll at once, before the other configs changed with this one
   * reach the caches (found by the soak, seed 18: a DaemonSet rolled to a ConfigMap's new content with its Secret's old
   * one, then again).
   */
  observed(key: string, now: number, debounceMs: number): void {
    const e = this.entry(key);
    if (e.since === undefined || now - e.since > 2 * debounceMs) e.since = now;
  }

  /** When the pending change was first observed; records `now` if none was. */
  since(key: string, now: number): number {
    const e = this.entry(key);
    return (e.since ??= now);
  }

  noteChange(key: string, id: string): void {
    (this.entry(key).changed ??= new Set()).add(id);
  }

  /** The config was deleted: changes noted before say nothing about what a re-created one holds (the baseline keeps
   * the digest the pods hold). */
  dropChange(key: string, id: string): void {
    const e = this.entries.get(key);
    if (!e?.changed) return;
    e.changed.delete(id);
    if (e.changed.size === 0) delete e.changed;
  }

  changes(key: string): ReadonlySet<string> | undefined { return this.entries.get(key)?.changed; }

  /** A baseline holding these contents is on the workload: changes noted for present configs are in it now. */
  settleChanges(key: string, observed: Observed): void {
    const ids = this.entries.get(key)?.changed;
    if (!ids) return;
    for (const id of ids) if (observed.configs[id] !== undefined && !isAbsent(observed.configs[id]!)) ids.delete(id);
    if (ids.size === 0) delete this.entries.get(key)!.changed;
  }

  /** The baseline is gone: noted changes mean nothing any more. */
  clearChanges(key: string): void { const e = this.entries.get(key); if (e) delete e.changed; }

  /** Nothing is pending any more: no open window, no reserved slot. */
  settled(key: string): void {
    const e = this.entries.get(key);
    if (e) { delete e.since; delete e.slot; }
  }

  /** The change was handled (rolled, or found already in place): the window closes. */
  clearSince(key: string): void { const e = this.entries.get(key); if (e) delete e.since; }

  /** The slot reserved earlier, or the one `reserve` gives now. */
  slot(key: string, reserve: () => number): { at: number; fresh: boolean } {
    const e = this.entry(key);
    if (e.slot !== undefined) return { at: e.slot, fresh: false };
    return { at: (e.slot = reserve()), fresh: true };
  }

  releaseSlot(key: string): void { const e = this.entries.get(key); if (e) delete e.slot; }

  markRetryingRoll(key: string): void { this.entry(key).retryingRoll = true; }

  /** Whether the last roll write met a 409, consuming the mark. */
  takeRetryingRoll(key: string): boolean {
    const e = this.entries.get(key);
    if (!e?.retryingRoll) return false;
    delete e.retryingRoll;
    return true;
  }

  /** True when `text` was already warned about (else remembers it); undefined clears the memory (no problems). */
  alreadyWarned(key: string, text: string | undefined): boolean {
    if (text === undefined) { const e = this.entries.get(key); if (e) delete e.warned; return false; }
    const e = this.entry(key);
    if (e.warned === text) return true;
    e.warned = text;
    return false;
  }

  /** True the first time a key is reconciled in this process. */
  firstSight(key: string): boolean {
    const e = this.entry(key);
    if (e.seen) return false;
    e.seen = true;
    return true;
  }

  /** The workload is gone or out of scope. */
  forget(key: string): void { this.entries.delete(key); }
}

// Keeps each GitSync's applied record (applied.ts) between syncs, in memory, and rebuilds it after a restart from
// status.inventoryFingerprint. With it, a poll that finds the same commit checks the cluster with one LIST per kind
// (live-versions.ts) and stops there when nothing moved, without reading or rendering the revision; otherwise it
// gives plan shortcuts, so only what moved or changed is dry-run. Without a usable record (first sync, a new
// generation or identity, a failed check) nothing is skipped: every object is planned as before.

import type { KubeClient } from '../kube/client.js';
import type { PlanItem, PlanShortcuts } from './apply.js';
import { type AppliedRecord, fingerprintOf, nextRecord, nothingMoved, objectDigests, planShortcuts, restoreRecord, targetsOf } from './applied.js';
import type { Discovery } from './discovery.js';
import { listLiveVersions } from './live-versions.js';
import type { DesiredObject } from './render.js';
import { type InventoryDigest, inventoryDigest } from './snapshot.js';
import type { GitSyncStatus, InventoryEntry } from './spec.js';

export interface ResyncInput {
  /** namespace/name of the GitSync. */
  readonly key: string;
  /** The GitSync's content client (its identity): the LISTs are made with its rights. */
  readonly client: KubeClient;
  readonly objects: readonly DesiredObject[];
  readonly owner: { readonly namespace: string; readonly name: string };
  readonly generation: number | undefined;
  /** identityName() of whoever applies the content. */
  readonly identity: string;
  readonly revision: string;
  /** The status read at the start of this sync. */
  readonly status: GitSyncStatus;
  readonly signal?: AbortSignal | undefined;
}

export interface Resync {
  /** What the plan may skip; undefined: plan everything. */
  readonly shortcuts: PlanShortcuts | undefined;
  /** LIST requests made to find the shortcuts. */
  readonly listRequests: number;
  /** Whether the record came from status (after a restart) rather than memory. */
  readonly restored: boolean;
  readonly input: ResyncInput;
  readonly digests: ReadonlyMap<string, string>;
  readonly previous: AppliedRecord | undefined;
}

/** status.inventory as read (a GET), or as Keelson's cache keeps it (snapshot.ts). */
type Inventory = readonly InventoryEntry[] | InventoryDigest | undefined;

export class AppliedVersions {
  private readonly records = new Map<string, AppliedRecord>();
  /** Each record's ids digested as status.inventory would list them (sorted), computed once per record. */
  private readonly digests = new WeakMap<AppliedRecord, string>();

  /** `renderer` names what turns a commit into objects (Keelson's version): a new one invalidates stored fingerprints. */
  constructor(private readonly discovery: Discovery, private readonly renderer: string) {}

  async prepare(input: ResyncInput): Promise<Resync> {
    const digests = await objectDigests(input.objects);
    const none = { shortcuts: undefined, listRequests: 0, restored: false, input, digests, previous: undefined };
    let record = this.records.get(input.key);
    if (record && (record.generation !== input.generation || record.identity !== input.identity)) record = undefined;
    const st = input.status;
    if (!record && !(st.inventoryFingerprint && st.lastAppliedRevision === input.revision && st.observedGeneration === input.generation)) return none;
    const live = await listLiveVersions(input.client, this.discovery, targetsOf(input.objects), input.owner, input.signal);
    let restored = false;
    if (!record) {
      record = restoreRecord(input.objects, digests, live, st.inventoryFingerprint, this.basis(input));
      if (!record) return { ...none, listRequests: live.requests };
      restored = true;
    }
    return { shortcuts: planShortcuts(input.objects, digests, record, live), listRequests: live.requests, restored, input, digests, previous: record };
  }

  /**
   * Whether a poll that resolved `revision` may skip reading it: the record in memory is of that revision,
   * generation and identity, and covers the whole inventory (an entry kept after a failed prune needs a full sync).
   */
  reusable(key: string, revision: string, generation: number | undefined, identity: string, inventory: Inventory): boolean {
    const r = this.records.get(key);
    return r !== undefined && r.revision === revision && this.covers(r, generation, identity, inventory);
  }

  /**
   * nothingMoved() started before the revision is resolved, so its LISTs overlap `git ls-remote`: when the record
   * would be reusable for its own revision (the usual poll). Undefined otherwise. The result only counts once
   * reusable() says yes for the resolved revision; a new commit wastes these O(kinds) LISTs, nothing more.
   */
  checkAhead(key: string, generation: number | undefined, identity: string, inventory: Inventory, client: KubeClient, owner: { namespace: string; name: string }, signal?: AbortSignal): Promise<{ unchanged: boolean; listRequests: number }> | undefined {
    const r = this.records.get(key);
    if (!r || !this.covers(r, generation, identity, inventory)) return undefined;
    const check = this.nothingMoved(key, client, owner, signal);
    check.catch(() => undefined); // awaited only when the revision is reused; never an unhandled rejection
    return check;
  }

  /** After reusable(): one LIST per kind and namespace; true when every recorded object is where it was left. */
  async nothingMoved(key: string, client: KubeClient, owner: { namespace: string; name: string }, signal?: AbortSignal): Promise<{ unchanged: boolean; listRequests: number }> {
    const r = this.records.get(key);
    if (!r) return { unchanged: false, listRequests: 0 };
    const live = await listLiveVersions(client, this.discovery, r.targets, owner, signal);
    return { unchanged: nothingMoved(r, live), listRequests: live.requests };
  }

  /** Records a successful sync; returns the fingerprint for status.inventoryFingerprint. */
  commit(r: Resync, plan: readonly PlanItem[], written: ReadonlyMap<string, string>): string {
    const next = nextRecord(plan, written, r.digests, r.previous, { revision: r.input.revision, generation: r.input.generation, identity: r.input.identity });
    this.records.set(r.input.key, next);
    return fingerprintOf(this.basis(r.input), [...next.entries].map(([id, e]): [string, string] => [id, e.rv]));
  }

  private covers(r: AppliedRecord, generation: number | undefined, identity: string, inventory: Inventory): boolean {
    if (r.generation !== generation || r.identity !== identity) return false;
    if (inventory && 'digest' in inventory) return inventory.count === r.entries.size && inventory.digest === this.digestOf(r);
    return (inventory ?? []).length === r.entries.size && (inventory ?? []).every((e) => r.entries.has(e.id));
  }

  private digestOf(r: AppliedRecord): string {
    let d = this.digests.get(r);
    if (d === undefined) this.digests.set(r, d = inventoryDigest([...r.entries.keys()].sort()).digest);
    return d;
  }

  forget(key: string): void {
    this.records.delete(key);
  }

  private basis(input: ResyncInput) {
    return { revision: input.revision, generation: input.generation, identity: input.identity, renderer: this.renderer };
  }
}

// Inventory bookkeeping and the prune decision. The inventory in status lists what this GitSync applied; prune
// deletes only entries that left Git, only if the live object still carries this GitSync's owner labels, never
// an object annotated keelson.dev/prune: disabled, and never everything at once unless allowed. Pure.

import type { KubeObject } from '../kube/types.js';
import type { DesiredObject } from './render.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, PRUNE_ANNOTATION, type InventoryEntry } from './spec.js';

export interface InventoryRef {
  readonly id: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly group: string;
  readonly kind: string;
  readonly version: string;
}

/** The inventory of a rendered revision, sorted by id so status does not churn. */
export function inventoryOf(objects: readonly DesiredObject[]): InventoryEntry[] {
  return objects.map((o) => ({ id: o.id, v: o.version })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Parses an inventory id back into its parts; undefined for a malformed entry (ignored rather than guessed at). */
export function parseInventoryEntry(e: InventoryEntry): InventoryRef | undefined {
  if (typeof e?.id !== 'string' || typeof e.v !== 'string') return undefined;
  // Names, namespaces and kinds cannot contain '_'; groups cannot either (DNS subdomains), so splitting is exact.
  const parts = e.id.split('_');
  if (parts.length !== 4) return undefined;
  const [namespace, name, group, kind] = parts as [string, string, string, string];
  if (name === '' || kind === '') return undefined;
  return { id: e.id, namespace: namespace === '' ? undefined : namespace, name, group, kind, version: e.v };
}

/** Inventory entries that are no longer in Git. */
export function staleEntries(previous: readonly InventoryEntry[] | undefined, current: readonly InventoryEntry[]): InventoryRef[] {
  const keep = new Set(current.map((e) => e.id));
  const out: InventoryRef[] = [];
  for (const e of previous ?? []) {
    if (keep.has(e.id)) continue;
    const ref = parseInventoryEntry(e);
    if (ref) out.push(ref);
  }
  return out;
}

export type PruneVerdict = 'delete' | 'gone' | 'protected' | 'not-owned';

/** Whether a live object that left Git may be deleted by the GitSync ns/name. */
export function pruneVerdict(live: KubeObject | undefined, owner: { namespace: string; name: string }): PruneVerdict {
  if (!live || live.metadata.deletionTimestamp) return 'gone';
  if (live.metadata.annotations?.[PRUNE_ANNOTATION] === 'disabled') return 'protected';
  const labels = live.metadata.labels ?? {};
  if (labels[OWNER_NAME_LABEL] !== owner.name || labels[OWNER_NAMESPACE_LABEL] !== owner.namespace) return 'not-owned';
  return 'delete';
}

/**
 * The allow-empty guard: a revision that renders zero objects while the inventory is not empty is far more often
 * a mistake (wrong path, a bad merge) than a wish to delete everything.
 */
export function emptyRevisionBlocked(objects: number, previous: readonly InventoryEntry[] | undefined, prune: boolean, allowEmpty: boolean): boolean {
  return prune && objects === 0 && (previous?.length ?? 0) > 0 && !allowEmpty;
}

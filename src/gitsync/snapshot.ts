// Keelson's cached copy of a GitSync, kept by its store for the quick in-sync check (syncer.ts): the object as the
// last watch event showed it, without metadata.managedFields and with status.inventory reduced to a count and a
// digest of its ids, so a GitSync of 10,000 objects costs a few hundred bytes here, not megabytes. Pure.

import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/types.js';
import type { GitSyncObject, InventoryEntry } from './spec.js';

/** status.inventory as the cache keeps it: how many entries, and a digest of their ids in order. */
export interface InventoryDigest {
  readonly count: number;
  readonly digest: string;
}

export interface GitSyncSnapshot {
  /** The GitSync without managedFields and without status.inventory. Never mutated: copy before changing it. */
  readonly obj: GitSyncObject;
  readonly inventory: InventoryDigest;
}

/** The digest of inventory ids, in the order given (status.inventory is written sorted by id); each id is length-prefixed. */
export function inventoryDigest(ids: Iterable<string>): InventoryDigest {
  const h = createHash('sha256');
  let count = 0;
  for (const id of ids) { h.update(`${id.length}:`).update(id, 'utf8'); count++; }
  return { count, digest: h.digest('base64url') };
}

export function snapshotOf(obj: KubeObject): GitSyncSnapshot {
  const o = obj as GitSyncObject;
  const entries: unknown = o.status?.inventory;
  const ids = Array.isArray(entries) ? entries.map((e: Partial<InventoryEntry> | null) => (typeof e?.id === 'string' ? e.id : '')) : [];
  const { managedFields: _managed, ...metadata } = o.metadata;
  const { inventory: _inventory, ...status } = o.status ?? {};
  return { obj: { ...o, metadata, status }, inventory: inventoryDigest(ids) };
}

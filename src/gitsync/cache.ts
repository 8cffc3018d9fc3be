// The Git cache folder holds one bare repository per (GitSync, URL), named `<namespace>_<name>_<hash of both>`.
// Entries of GitSyncs that are gone, and of a GitSync's earlier URLs, are removed, so the disk used follows the
// GitSyncs that exist now. The decisions are pure; removal is a thin readdir + rm.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const ENTRY = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)_([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)_([0-9a-f]{16})$/;

/** The GitSync a cache entry belongs to; undefined for names Keelson did not make (left alone). Pure. */
export function cacheEntryOwner(entry: string): { namespace: string; name: string } | undefined {
  // Namespaces and GitSync names never hold "_", so the split is unambiguous.
  const m = ENTRY.exec(entry);
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

/**
 * Entries to remove: those of GitSyncs `exists` does not know, and those of `current` GitSync other than the
 * folder it uses now (`keep`, a base name). Pure.
 */
export function staleCacheEntries(entries: readonly string[], exists: (namespace: string, name: string) => boolean, current?: { namespace: string; name: string; keep: string }): string[] {
  return entries.filter((e) => {
    const owner = cacheEntryOwner(e);
    if (!owner) return false;
    if (current && owner.namespace === current.namespace && owner.name === current.name) return e !== current.keep;
    return !exists(owner.namespace, owner.name);
  });
}

/** Removes the stale entries of cacheDir; returns their names. */
export async function removeStaleEntries(cacheDir: string, exists: (namespace: string, name: string) => boolean, current?: { namespace: string; name: string; keep: string }): Promise<string[]> {
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  const stale = staleCacheEntries(entries, exists, current);
  for (const e of stale) await rm(join(cacheDir, e), { recursive: true, force: true });
  return stale;
}

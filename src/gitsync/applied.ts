// What the last sync left in the cluster, per object: the resourceVersion it saw or wrote and a digest of what it
// applied. An object whose resourceVersion has not moved since and whose desired content is the same still holds
// exactly what applying Git makes of it, so it needs neither a GET nor a server-side dry-run. Pure, but for
// objectDigests, which hashes a revision over several event-loop turns.

import { createHash } from 'node:crypto';
import type { PlanItem, PlanShortcuts } from './apply.js';
import { canonical } from './drift.js';
import type { DesiredObject } from './render.js';
import { inTurns } from './turns.js';
import { byKey } from '../kube/order.js';

export interface AppliedEntry {
  /** resourceVersion of the object when it was last found (or made) equal to what Git applies. */
  readonly rv: string;
  /** objectDigest of the desired object then. */
  readonly digest: string;
}

/** A kind (and namespace, for namespaced objects) the record's objects live in: what is listed to check them. */
export interface ListTarget {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace: string | undefined;
}

/** One GitSync's record: valid only for the revision, generation and identity it was made with. */
export interface AppliedRecord {
  readonly revision: string;
  readonly generation: number | undefined;
  readonly identity: string;
  readonly entries: ReadonlyMap<string, AppliedEntry>;
  /** Where the recorded objects live, one per kind and namespace. */
  readonly targets: readonly ListTarget[];
}

/** Live resourceVersions of the GitSync's objects, from label-selected LISTs (live-versions.ts). */
export interface LiveVersions {
  /** By inventory id; only objects carrying this GitSync's owner labels. */
  readonly versions: ReadonlyMap<string, string>;
  /** Whether the LIST that would show objects of this kind and namespace succeeded (absence then means "missing"). */
  listed(t: ListTarget): boolean;
}

export function targetOf(o: DesiredObject): ListTarget {
  return { group: o.group, version: o.version, kind: o.kind, namespace: o.object.metadata.namespace };
}

/** The distinct kinds and namespaces of some objects. */
export function targetsOf(objects: readonly DesiredObject[]): ListTarget[] {
  const out = new Map<string, ListTarget>();
  for (const o of objects) {
    const t = targetOf(o);
    out.set(JSON.stringify([t.group, t.version, t.kind, t.namespace ?? null]), t);
  }
  return [...out.values()];
}

/** Digest of a desired object (after rendering: namespace and owner labels set). Kept in memory only. */
export function objectDigest(o: DesiredObject): string {
  return hashOf(canonical(o.object));
}

const hashOf = (canonicalText: string) => createHash('sha256').update(canonicalText, 'utf8').digest('base64url');

/** Canonical JSON hashed per event-loop turn: 10,000 objects of 6 KiB (62 MiB) took 350 ms in one task. */
const DIGEST_TURN_CHARS = 1024 * 1024;

/** objectDigest of every object, by id, the event loop getting a turn after each ~1 MiB hashed. */
export async function objectDigests(objects: readonly DesiredObject[]): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  await inTurns(objects, (o) => {
    const text = canonical(o.object);
    digests.set(o.id, hashOf(text));
    return text.length;
  }, DIGEST_TURN_CHARS);
  return digests;
}

/**
 * Which objects need no plan: recorded with the same digest and listed at the recorded resourceVersion. An object
 * whose kind or namespace could not be listed (a 403 for the GitSync's identity) is checked by a GET instead.
 * Everything else (no record, new content, a moved resourceVersion, missing from the list) is planned as before.
 */
export function planShortcuts(objects: readonly DesiredObject[], digests: ReadonlyMap<string, string>, record: AppliedRecord, live: LiveVersions): PlanShortcuts {
  const unchanged = new Set<string>();
  const expected = new Map<string, string>();
  for (const o of objects) {
    const entry = record.entries.get(o.id);
    if (!entry || entry.digest !== digests.get(o.id)) continue;
    if (!live.listed(targetOf(o))) expected.set(o.id, entry.rv);
    else if (live.versions.get(o.id) === entry.rv) unchanged.add(o.id);
  }
  return { unchanged, expected };
}

/**
 * The record after a successful sync: each object's resourceVersion as written by the apply, else as read by the
 * plan's GET (unchanged after the dry-run), else the recorded one it was skipped for. An object without one
 * (nothing reliable was seen) gets no entry and is planned next time.
 */
export function nextRecord(plan: readonly PlanItem[], written: ReadonlyMap<string, string>, digests: ReadonlyMap<string, string>, previous: AppliedRecord | undefined, basis: { revision: string; generation: number | undefined; identity: string }): AppliedRecord {
  const entries = new Map<string, AppliedEntry>();
  const reusable = previous && previous.generation === basis.generation && previous.identity === basis.identity ? previous : undefined;
  for (const item of plan) {
    const id = item.desired.id;
    const digest = digests.get(id);
    if (digest === undefined) continue;
    let rv = written.get(id);
    if (rv === undefined && item.action === 'unchanged') rv = item.live?.metadata.resourceVersion ?? (item.shortcut === 'listed' ? reusable?.entries.get(id)?.rv : undefined);
    if (rv) entries.set(id, { rv, digest });
  }
  return { ...basis, entries, targets: targetsOf(plan.map((p) => p.desired)) };
}

/**
 * Whether the cluster still holds exactly what the record says, without the revision at hand: every kind and
 * namespace listed, every recorded object present at its recorded resourceVersion. Then, for the same revision,
 * generation and identity, a sync would change nothing.
 */
export function nothingMoved(record: AppliedRecord, live: LiveVersions): boolean {
  if (!record.targets.every((t) => live.listed(t))) return false;
  for (const [id, e] of record.entries) if (live.versions.get(id) !== e.rv) return false;
  return true;
}

const FINGERPRINT_TAG = 'keelson.dev/gitsync-applied/v1';

/**
 * The compact, restart-proof form of a record, kept in status.inventoryFingerprint: a digest of the revision,
 * generation, identity, renderer and every object's resourceVersion. Content digests are left out on purpose (status
 * is readable by more people than the Secrets in Git; a digest would let them test guesses); the revision and the
 * renderer (Keelson's version) pin the content instead: the same commit renders the same objects.
 */
export function fingerprintOf(basis: { revision: string; generation: number | undefined; identity: string; renderer: string }, versions: Iterable<[string, string]>): string {
  const rows = [...versions].sort(byKey);
  const h = createHash('sha256').update(JSON.stringify([FINGERPRINT_TAG, basis.revision, basis.generation ?? null, basis.identity, basis.renderer, rows]), 'utf8');
  return `v1:${h.digest('base64url')}`;
}

/**
 * A record rebuilt after a restart: when status says this revision was applied at this generation and the live
 * resourceVersions of every object give back the stored fingerprint, nothing has moved since that sync.
 */
export function restoreRecord(objects: readonly DesiredObject[], digests: ReadonlyMap<string, string>, live: LiveVersions, stored: string | undefined, basis: { revision: string; generation: number | undefined; identity: string; renderer: string }): AppliedRecord | undefined {
  if (!stored) return undefined;
  const versions: [string, string][] = [];
  for (const o of objects) {
    const rv = live.versions.get(o.id);
    if (rv === undefined) return undefined;
    versions.push([o.id, rv]);
  }
  if (fingerprintOf(basis, versions) !== stored) return undefined;
  return { revision: basis.revision, generation: basis.generation, identity: basis.identity, entries: new Map(versions.map(([id, rv]) => [id, { rv, digest: digests.get(id)! }])), targets: targetsOf(objects) };
}

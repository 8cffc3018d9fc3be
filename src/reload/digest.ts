// Content digests for reload decisions: SHA-256 over a canonical, unambiguous encoding. Every string is written as
// JSON (escaped and quoted, so no separator can be forged by a key or value), keys are sorted by code point, data
// and binaryData are separate sections, and nothing time-dependent is included: same content, same digest.

import { createHash } from 'node:crypto';
import { type ConfigKind, cmp } from './references.js';

const CONTENT_TAG = 'keelson.dev/config-content/v1';
const WORKLOAD_TAG = 'keelson.dev/workload-configs/v1';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function sortedEntries(map: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(map ?? {}).sort(([a], [b]) => cmp(a, b));
}

/** Digest of one config's content: its data and binaryData (as the API returns them), never its metadata. */
export function contentDigest(data: Readonly<Record<string, string>> | undefined, binaryData: Readonly<Record<string, string>> | undefined): string {
  return sha256(JSON.stringify([CONTENT_TAG, sortedEntries(data), sortedEntries(binaryData)]));
}

export interface TriggerContent {
  readonly kind: ConfigKind;
  readonly namespace: string;
  readonly name: string;
  /** contentDigest of the config as it is now. */
  readonly digest: string;
}

/**
 * The workload's config hash: identities and content digests of the configs that trigger it, in a canonical order.
 * Only present configs are passed in; the empty set has a digest too.
 */
export function workloadDigest(triggers: readonly TriggerContent[]): string {
  const rows = triggers
    .map((t) => [t.kind, t.namespace, t.name, t.digest] as const)
    .sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]) || cmp(a[2], b[2]));
  return sha256(JSON.stringify([WORKLOAD_TAG, rows]));
}

/** Reloader's encoding, kept only so tests can show its ambiguity: "k=v;" pairs concatenated, SHA-1. Never used. */
export function reloaderStyleEncoding(data: Readonly<Record<string, string>>): string {
  return sortedEntries(data).map(([k, v]) => `${k}=${v};`).join('');
}

// Content digests for reload decisions: SHA-256 over a canonical, unambiguous encoding. Every string is written as
// JSON (escaped and quoted, so no separator can be forged by a key or value), keys are sorted by code point, data
// and binaryData are separate sections, and nothing time-dependent is included: same content, same digest.
// The plain digests stay in memory; what is published on workloads goes through a DigestForm: HMAC-SHA256 under the
// cluster's digest key ("h1:" form), so a low-entropy Secret value cannot be brute-forced from a workload. The plain
// form (v1) is kept only to read baselines written before keyed digests.

import { createHash, createHmac } from 'node:crypto';
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
  return sha256(workloadEncoding(triggers));
}

function workloadEncoding(triggers: readonly TriggerContent[]): string {
  const rows = triggers
    .map((t) => [t.kind, t.namespace, t.name, t.digest] as const)
    .sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]) || cmp(a[2], b[2]));
  return JSON.stringify([WORKLOAD_TAG, rows]);
}

/** How published digests are written: plain SHA-256 (v1, before keyed digests) or HMAC-SHA256 under one key. */
export interface DigestForm {
  /** Id of the key (published in the baseline, so a key change is recognised); undefined for the plain form. */
  readonly kid: string | undefined;
  /** The published digest of one config (env-vars strategy value; its first 16 hex digits go into the baseline). */
  config(plain: string): string;
  /** The published config hash of a workload (pod-template annotation, baseline, last-reload). */
  workload(triggers: readonly TriggerContent[]): string;
}

export const KEYED_PREFIX = 'h1:';
const KEY_ID_TAG = 'keelson.dev/digest-key-id/v1';
const CONFIG_KEYED_TAG = 'keelson.dev/config-digest/v1';
export const MIN_KEY_BYTES = 32;

export const PLAIN_FORM: DigestForm = Object.freeze({ kid: undefined, config: (plain: string) => plain, workload: workloadDigest });

/** A short, public id of a key: HMAC of a fixed tag, so it reveals nothing about the key. */
export function keyId(key: Uint8Array): string {
  return createHmac('sha256', key).update(KEY_ID_TAG).digest('hex').slice(0, 12);
}

export function keyedForm(key: Uint8Array): DigestForm {
  if (key.length < MIN_KEY_BYTES) throw new Error(`a digest key needs at least ${MIN_KEY_BYTES} bytes`);
  const k = Buffer.from(key);
  const mac = (text: string) => KEYED_PREFIX + createHmac('sha256', k).update(text, 'utf8').digest('hex');
  return Object.freeze({
    kid: keyId(k),
    config: (plain: string) => mac(JSON.stringify([CONFIG_KEYED_TAG, plain])),
    workload: (triggers: readonly TriggerContent[]) => mac(workloadEncoding(triggers)),
  });
}

/** The hex digits of a published digest, without the form prefix. */
export function digestHex(published: string): string {
  return published.startsWith(KEYED_PREFIX) ? published.slice(KEYED_PREFIX.length) : published;
}

/** Reloader's encoding, kept only so tests can show its ambiguity: "k=v;" pairs concatenated, SHA-1. Never used. */
export function reloaderStyleEncoding(data: Readonly<Record<string, string>>): string {
  return sortedEntries(data).map(([k, v]) => `${k}=${v};`).join('');
}

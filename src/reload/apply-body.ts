// The server-side-apply body of a reload write, built as an object. With server-side apply, a field manager owns
// exactly the fields of its last apply: so every write carries all of keelson-reload's fields (the pod-template hash,
// the KEELSON_* variables, the two metadata annotations), changed or carried forward, and a Git applier's own
// apply neither strips them nor is stripped by them. Pure.

import { CONFIG_HASH, LAST_RELOAD, OBSERVED, PAUSED_UNTIL } from './annotations.js';
import { type Observed, formatObserved } from './decide.js';
import { KEYED_PREFIX } from './digest.js';
import type { WorkloadRecord } from './records.js';
import type { ConfigKind } from './references.js';
import { KINDS } from './workload-kinds.js';
import { byKey } from '../kube/order.js';

/** KEELSON_<NAME>_<CONFIGMAP|SECRET>: name upper-cased, runs of non-alphanumerics → "_". */
export function envVarName(kind: ConfigKind, name: string): string {
  return `KEELSON_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${kind === 'ConfigMap' ? 'CONFIGMAP' : 'SECRET'}`;
}

export interface EnvTrigger { readonly kind: ConfigKind; readonly name: string; readonly digest: string }

/**
 * The KEELSON_* variables of an env-vars roll: each present trigger goes into the regular containers that use it,
 * or into the first container when none does (a named trigger the pod does not reference).
 */
export function envVarsFor(w: WorkloadRecord, triggers: readonly EnvTrigger[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of triggers) {
    const ref = w.refs.find((r) => r.kind === t.kind && r.name === t.name);
    const targets = ref && ref.containers.length > 0 ? ref.containers : w.containers.slice(0, 1);
    for (const c of targets) (out[c] ??= {})[envVarName(t.kind, t.name)] = t.digest;
  }
  return out;
}

export interface LastReload {
  readonly at: string;
  /** "ConfigMap ns/name" (the first cause) and how it changed. */
  readonly trigger: string;
  readonly change: string;
  readonly hash: string;
  /** The workload generation the roll produced, so a restarted controller can resume tracking its rollout. */
  readonly generation?: number;
  /** CronJob: how many Jobs reload created from it; part of the next Job's name, so each roll gets its own. */
  readonly seq?: number;
  /** CronJob: the Job the roll created. */
  readonly job?: string;
}

export function parseLastReload(text: string | undefined): LastReload | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as Partial<LastReload>;
    return typeof o.at === 'string' && typeof o.trigger === 'string' && typeof o.hash === 'string' ? o as LastReload : undefined;
  } catch { return undefined; }
}

/**
 * A last-reload written before keyed digests holds a plain SHA-256 config hash. It is metadata (rewriting it restarts
 * nothing), so every write carries it forward with the hash emptied rather than keep publishing a plain digest.
 */
export function scrubPlainHash(text: string | undefined): string | undefined {
  const last = parseLastReload(text);
  if (!last || last.hash === '' || last.hash.startsWith(KEYED_PREFIX)) return text;
  return JSON.stringify({ ...last, hash: '' });
}

/**
 * Removes the baseline (the workload is no longer a reload target). A merge patch with nulls, not an apply that
 * omits the fields: another manager may co-own them, and then an apply would only give up keelson-reload's share.
 */
export function forgetBody(w: WorkloadRecord): Record<string, unknown> {
  return { metadata: { resourceVersion: w.resourceVersion, annotations: { [OBSERVED]: null, [LAST_RELOAD]: null } } };
}

export interface ApplyChange {
  /** The baseline to record. */
  readonly observed: Observed;
  /** Present for a roll. */
  readonly roll?: {
    readonly lastReload: LastReload;
    readonly configHash?: string;
    readonly env?: Readonly<Record<string, Readonly<Record<string, string>>>>;
    /** Argo Rollout, strategy restart: spec.restartAt (RFC 3339) instead of a pod-template change. */
    readonly restartAt?: string;
    /** Deployment with a pause-period: written paused, resumed at this time (RFC 3339). */
    readonly pausedUntil?: string;
  };
  /** The pause-period is over: drop spec.paused and the resume time (keelson-reload gives up both fields). */
  readonly resume?: boolean;
}

export function applyBody(w: WorkloadRecord, change: ApplyChange): Record<string, unknown> {
  const annotations: Record<string, string> = { [OBSERVED]: formatObserved(change.observed) };
  const last = change.roll ? JSON.stringify(change.roll.lastReload) : scrubPlainHash(w.annotations[LAST_RELOAD]);
  if (last !== undefined) annotations[LAST_RELOAD] = last;
  // Carried forward while a pause runs (an omitted field would be given up, and the Deployment resumed early).
  const pausedUntil = change.resume ? undefined : w.annotations[PAUSED_UNTIL] ?? change.roll?.pausedUntil;
  if (pausedUntil !== undefined) annotations[PAUSED_UNTIL] = pausedUntil;
  const body: Record<string, unknown> = {
    apiVersion: w.apiVersion, kind: w.kind,
    metadata: { name: w.name, namespace: w.namespace, resourceVersion: w.resourceVersion, annotations },
  };
  // A CronJob or Job roll creates a Job: the workload itself only carries the baseline.
  if (KINDS[w.kind].mode !== 'template') return body;
  const hash = change.roll?.configHash ?? w.templateAnnotations[CONFIG_HASH];
  const env = change.roll?.env ?? w.ownedEnv;
  const containers = w.containers
    .filter((c) => Object.keys(env[c] ?? {}).length > 0)
    .map((c) => ({ name: c, env: Object.entries(env[c]!).sort(byKey).map(([name, value]) => ({ name, value })) }));
  const spec: Record<string, unknown> = {};
  if (hash !== undefined || containers.length > 0) {
    const template: Record<string, unknown> = {};
    if (hash !== undefined) template.metadata = { annotations: { [CONFIG_HASH]: hash } };
    if (containers.length > 0) template.spec = { containers };
    spec.template = template;
  }
  const restartAt = change.roll?.restartAt ?? w.restartAt;
  if (restartAt !== undefined) spec.restartAt = restartAt;
  if (pausedUntil !== undefined) spec.paused = true;
  if (Object.keys(spec).length > 0) body.spec = spec;
  return body;
}

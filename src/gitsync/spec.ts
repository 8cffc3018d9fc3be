// The GitSync resource as Keelson reads it: spec parsed and validated once per reconcile into a typed, defaulted
// form, with errors that name the field and the fix. Pure.

import { parseDuration } from '../config/duration.js';
import type { KubeObject } from '../kube/types.js';
import { ignorePatterns } from './ignore.js';
import { type KustomizeFields, KustomizeFieldError, parseKustomizeFields } from './kustomize-fields.js';
import { parseRange } from './semver.js';
import type { Condition } from '../kube/conditions.js';
import type { HistoryEntry } from './history.js';

export const GITSYNC_API_VERSION = 'keelson.dev/v1alpha1';
export const FIELD_MANAGER = 'keelson-sync';
export const REQUESTED_AT = 'keelson.dev/requested-at';
export const ALLOW_EMPTY = 'keelson.dev/allow-empty';
export const PRUNE_ANNOTATION = 'keelson.dev/prune';
/** Held while a GitSync with prune: true exists, so that deleting it first deletes what it applied (as Flux does). */
export const FINALIZER = 'finalizers.keelson.dev/gitsync';
/** Labels put on every applied object: which GitSync applied it (prune deletes only objects that carry them). */
export const OWNER_NAME_LABEL = 'gitsync.keelson.dev/name';
export const OWNER_NAMESPACE_LABEL = 'gitsync.keelson.dev/namespace';

export type GitRef =
  | { readonly kind: 'branch'; readonly name: string }
  | { readonly kind: 'tag'; readonly name: string }
  | { readonly kind: 'semver'; readonly range: string }
  | { readonly kind: 'commit'; readonly sha: string; readonly branch?: string | undefined };

export interface GitSyncSpec {
  readonly url: string;
  readonly ref: GitRef;
  readonly path: string;
  readonly intervalMs: number;
  readonly prune: boolean;
  /** When set, the namespace of every namespaced object, whatever the manifest says (Flux's semantics). */
  readonly targetNamespace: string | undefined;
  /** The ServiceAccount (of the GitSync's namespace) whose rights apply the content; see identity.ts. */
  readonly serviceAccountName: string | undefined;
  readonly secretRef: string | undefined;
  readonly verify: { readonly mode: 'HEAD'; readonly secretRef: string } | undefined;
  readonly webhookSecretRef: string | undefined;
  /** Secret with the proxy (address, username, password) git uses for this GitSync, as Flux's proxySecretRef. */
  readonly proxySecretRef: string | undefined;
  readonly suspend: boolean;
  readonly timeoutMs: number;
  /** Health and order (spec.wait, spec.healthChecks, spec.dependsOn): see parseHealthAndOrder. */
  readonly wait: boolean;
  readonly healthChecks: readonly HealthCheckRef[];
  readonly dependsOn: readonly DependencyRef[];
  /** Gitignore-style patterns (one a line) of paths left out of the revision, after the repository's .keelsonignore. */
  readonly ignore: string | undefined;
  /** spec.kustomize (images, patches, namePrefix/nameSuffix, commonLabels): a kustomization generated over spec.path. */
  readonly kustomize: KustomizeFields | undefined;
}

/** An object whose health a GitSync waits for after applying (spec.healthChecks). */
export interface HealthCheckRef { readonly group: string; readonly version: string; readonly kind: string; readonly name: string; readonly namespace: string | undefined }
/** A GitSync that must be Ready at its latest revision before this one applies (spec.dependsOn). */
export interface DependencyRef { readonly namespace: string; readonly name: string }

export type { Condition };

export interface InventoryEntry { readonly id: string; readonly v: string }

export interface GitSyncStatus {
  observedGeneration?: number;
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  lastHandledRequestedAt?: string;
  drifted?: number;
  /** The last revision whose checked objects were all healthy (spec.wait / spec.healthChecks). */
  lastHealthyRevision?: string;
  /** When the wait for lastAppliedRevision's objects to become healthy began; null once it ended. */
  healthCheckStartedAt?: string | null;
  conditions?: Condition[];
  inventory?: InventoryEntry[];
  /** resync.ts: revision, generation, identity and applied resourceVersions of the last sync, digested. */
  inventoryFingerprint?: string;
  /** The last applied revisions, oldest first (history.ts). */
  history?: HistoryEntry[];
}

export interface GitSyncObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: GitSyncStatus;
}

/** A spec the user must fix; reported as Stalled, not retried until the object changes. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Secret and ServiceAccount names: DNS subdomains.
/** A Secret or ServiceAccount name (DNS subdomain); bounded, linear. Also used by images/spec.ts. */
export const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function str(spec: Record<string, unknown>, field: string): string | undefined {
  const v = spec[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SpecError(`spec.${field} must be a string`);
  return v;
}

function secretName(spec: Record<string, unknown>, field: string): string | undefined {
  const ref = spec[field];
  if (ref === undefined || ref === null) return undefined;
  const name = typeof ref === 'object' ? (ref as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || !SECRET_NAME.test(name)) throw new SpecError(`spec.${field}.name must name a Secret in the GitSync's namespace`);
  return name;
}

/**
 * The longest spec.timeout: one sync holds one of --max-concurrent-syncs slots for at most this long. A larger
 * value is refused (InvalidSpec) rather than clamped, so what runs is what the spec says; the default
 * (the interval, at least 1m) is capped at it.
 */
export const MAX_TIMEOUT_MS = 30 * 60_000;

function duration(spec: Record<string, unknown>, field: string, fallback: number, max = Infinity): number {
  const t = str(spec, field);
  if (t === undefined) return fallback;
  const ms = parseDuration(t);
  if (ms === undefined || ms <= 0) throw new SpecError(`spec.${field} "${t}" is not a positive duration such as 30s, 5m or 1h`);
  if (ms > max) throw new SpecError(`spec.${field} "${t}" is over the ceiling of ${max / 60_000}m; use ${max / 60_000}m or less`);
  return ms;
}

/** Rejects URLs that carry a password: credentials belong in spec.secretRef, never in the URL (or in status). */
export function checkUrl(url: string): void {
  if (url === '') throw new SpecError('spec.url is required');
  if (url.startsWith('-') || /\s/.test(url)) throw new SpecError('spec.url must not start with "-" or contain spaces');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    let u: URL;
    try { u = new URL(url); } catch { throw new SpecError('spec.url is not a valid URL'); }
    if (!['https:', 'http:', 'ssh:', 'git:', 'file:'].includes(u.protocol)) throw new SpecError(`spec.url scheme ${u.protocol} is not supported (https, http, ssh, git, file)`);
    if (u.password !== '') throw new SpecError('spec.url must not contain a password: put credentials in the Secret named by spec.secretRef');
    return;
  }
  // scp-like git@host:org/repo.git; "::" would select a remote helper (ext::, fd::), which is never allowed.
  if (/^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:(?!:)\S+$/.test(url)) return;
  throw new SpecError('spec.url must be an https://, http://, ssh://, git://, file:// or git@host:path URL');
}

function parseRef(spec: Record<string, unknown>): GitRef {
  const ref = (spec.ref ?? { branch: 'main' }) as Record<string, unknown>;
  if (typeof ref !== 'object') throw new SpecError('spec.ref must be an object such as {branch: main}');
  const set = ['branch', 'tag', 'semver', 'commit'].filter((k) => ref[k] !== undefined && ref[k] !== '');
  const text = (k: string) => {
    const val = ref[k];
    if (typeof val !== 'string') throw new SpecError(`spec.ref.${k} must be a string`);
    return val;
  };
  if (set.includes('commit')) {
    const sha = text('commit').toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(sha)) throw new SpecError('spec.ref.commit must be a full 40-hex commit SHA');
    return { kind: 'commit', sha, branch: set.includes('branch') ? text('branch') : undefined };
  }
  if (set.length > 1) throw new SpecError(`spec.ref sets ${set.join(' and ')}: choose one of branch, tag, semver or commit`);
  if (set.includes('semver')) {
    const range = text('semver');
    try { parseRange(range); } catch (err) { throw new SpecError(`spec.ref.semver: ${(err as Error).message}`); }
    return { kind: 'semver', range };
  }
  if (set.includes('tag')) return { kind: 'tag', name: checkRefName(text('tag'), 'tag') };
  return { kind: 'branch', name: checkRefName(set.includes('branch') ? text('branch') : 'main', 'branch') };
}

function checkRefName(name: string, field: string): string {
  // git check-ref-format's rules that matter here; also keeps names from being read as options.
  if (name.startsWith('-') || name.includes('..') || /[\s~^:?*[\\\x00-\x1f]/.test(name) || name.endsWith('/') || name.endsWith('.lock')) {
    throw new SpecError(`spec.ref.${field} "${name}" is not a valid Git ${field} name`);
  }
  return name;
}

function ignoreRules(spec: Record<string, unknown>): string | undefined {
  const text = str(spec, 'ignore');
  if (text === undefined || text.trim() === '') return undefined;
  try { ignorePatterns(undefined, text); } catch (err) { throw new SpecError((err as Error).message); }
  return text;
}

function kustomizeFields(spec: Record<string, unknown>): KustomizeFields | undefined {
  try { return parseKustomizeFields(spec.kustomize); } catch (err) {
    if (err instanceof KustomizeFieldError) throw new SpecError(err.message);
    throw err;
  }
}

/** Normalises spec.path: relative, no "..", "" and "./" become ".". */
export function normalisePath(p: string | undefined): string {
  const parts = (p ?? '.').split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) throw new SpecError(`spec.path "${p}" must stay inside the repository (no "..")`);
  return parts.length === 0 ? '.' : parts.join('/');
}

export function parseSpec(obj: GitSyncObject): GitSyncSpec {
  const spec = obj.spec ?? {};
  const url = str(spec, 'url') ?? '';
  checkUrl(url);
  const intervalMs = duration(spec, 'interval', 60_000);
  const targetNamespace = str(spec, 'targetNamespace') || undefined;
  if (targetNamespace !== undefined && !DNS_LABEL.test(targetNamespace)) throw new SpecError(`spec.targetNamespace "${targetNamespace}" is not a namespace name`);
  const serviceAccountName = str(spec, 'serviceAccountName') || undefined;
  if (serviceAccountName !== undefined && !SECRET_NAME.test(serviceAccountName)) throw new SpecError(`spec.serviceAccountName "${serviceAccountName}" is not a ServiceAccount name (lower-case letters, digits, '-' and '.')`);
  let verify: GitSyncSpec['verify'];
  if (spec.verify !== undefined && spec.verify !== null) {
    const vr = spec.verify as Record<string, unknown>;
    const mode = vr.mode ?? 'HEAD';
    if (mode !== 'HEAD') throw new SpecError('spec.verify.mode must be HEAD');
    const name = secretName(vr, 'secretRef');
    if (!name) throw new SpecError('spec.verify.secretRef.name is required: a Secret holding the trusted PGP and SSH public keys');
    verify = { mode: 'HEAD', secretRef: name };
  }
  return {
    url,
    ref: parseRef(spec),
    path: normalisePath(str(spec, 'path')),
    intervalMs,
    prune: spec.prune === true,
    targetNamespace,
    serviceAccountName,
    secretRef: secretName(spec, 'secretRef'),
    verify,
    webhookSecretRef: secretName(spec, 'webhookSecretRef'),
    proxySecretRef: secretName(spec, 'proxySecretRef'),
    suspend: spec.suspend === true,
    timeoutMs: duration(spec, 'timeout', Math.min(Math.max(intervalMs, 60_000), MAX_TIMEOUT_MS), MAX_TIMEOUT_MS),
    ...parseHealthAndOrder(spec, obj.metadata.namespace ?? ''),
    ignore: ignoreRules(spec),
    kustomize: kustomizeFields(spec),
  };
}

/** Most entries of spec.healthChecks and spec.dependsOn (the CRD says the same): bounded work per reconcile. */
export const MAX_HEALTH_CHECKS = 100;
export const MAX_DEPENDS_ON = 32;

const KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;
const API_VERSION = /^(?:([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)\/)?(v[0-9][a-z0-9]{0,30})$/;

function entries(spec: Record<string, unknown>, field: string, max: number): Record<string, unknown>[] {
  const v = spec[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SpecError(`spec.${field} must be a list`);
  if (v.length > max) throw new SpecError(`spec.${field} has ${v.length} entries; at most ${max} are allowed`);
  return v.map((e, i) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new SpecError(`spec.${field}[${i}] must be an object`);
    return e as Record<string, unknown>;
  });
}

function entryName(e: Record<string, unknown>, where: string, field: 'name' | 'namespace', pattern: RegExp): string | undefined {
  const v = e[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !pattern.test(v)) throw new SpecError(`${where}.${field} ${JSON.stringify(v).slice(0, 80)} is not a valid ${field}`);
  return v;
}

/**
 * spec.wait, spec.healthChecks [{apiVersion, kind, name, namespace}] and spec.dependsOn [{name, namespace}]. A
 * namespace left out is the GitSync's own (for a health check of a cluster-scoped kind it is ignored).
 */
export function parseHealthAndOrder(spec: Record<string, unknown>, ownNamespace: string): Pick<GitSyncSpec, 'wait' | 'healthChecks' | 'dependsOn'> {
  if (spec.wait !== undefined && spec.wait !== null && typeof spec.wait !== 'boolean') throw new SpecError('spec.wait must be true or false');
  const healthChecks = entries(spec, 'healthChecks', MAX_HEALTH_CHECKS).map((e, i): HealthCheckRef => {
    const where = `spec.healthChecks[${i}]`;
    const av = typeof e.apiVersion === 'string' ? API_VERSION.exec(e.apiVersion) : null;
    if (!av) throw new SpecError(`${where}.apiVersion must be an API version such as apps/v1 or v1`);
    if (typeof e.kind !== 'string' || !KIND.test(e.kind)) throw new SpecError(`${where}.kind must be a kind such as Deployment`);
    const name = entryName(e, where, 'name', SECRET_NAME);
    if (!name) throw new SpecError(`${where}.name is required`);
    return { group: av[1] ?? '', version: av[3]!, kind: e.kind, name, namespace: entryName(e, where, 'namespace', DNS_LABEL) ?? ownNamespace };
  });
  const seen = new Set<string>();
  const dependsOn: DependencyRef[] = [];
  for (const [i, e] of entries(spec, 'dependsOn', MAX_DEPENDS_ON).entries()) {
    const where = `spec.dependsOn[${i}]`;
    const name = entryName(e, where, 'name', SECRET_NAME);
    if (!name) throw new SpecError(`${where}.name is required: the name of a GitSync`);
    const namespace = entryName(e, where, 'namespace', DNS_LABEL) ?? ownNamespace;
    if (seen.has(`${namespace}/${name}`)) continue;
    seen.add(`${namespace}/${name}`);
    dependsOn.push({ namespace, name });
  }
  return { wait: spec.wait === true, healthChecks, dependsOn };
}

/** The name a revision is known by in status: "main@sha1:<hex>", "v1.2.0@sha1:<hex>", or "sha1:<hex>". */
export function revisionOf(name: string | undefined, sha: string): string {
  return name ? `${name}@sha1:${sha}` : `sha1:${sha}`;
}

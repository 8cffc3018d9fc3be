// What `keelson ui` sends to the page: pure functions from API objects to small, display-ready records. Only names,
// conditions and status travel; Secret data is never read and SealedSecret ciphertext is dropped here.

import type { Condition, GitSyncObject, InventoryEntry } from '../gitsync/spec.js';
import type { KubeObject } from '../kube/types.js';
import { scopeFromAnnotations } from '../sealing/scope.js';

/** A list the user may not read is a state of its own, not an error page. */
export type Section<T> =
  | { readonly state: 'ok'; readonly items: readonly T[] }
  | { readonly state: 'forbidden'; readonly message: string }
  | { readonly state: 'error'; readonly message: string };

export interface GitSyncRow {
  readonly namespace: string;
  readonly name: string;
  readonly ready: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  /** status.lastAppliedRevision, e.g. main@sha1:0123… */
  readonly revision: string;
  /** The short commit of that revision (12 hex), or ''. */
  readonly commit: string;
  readonly age: string;
  readonly drifted: number;
  readonly suspended: boolean;
}

export interface SealedSecretRow {
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
  readonly message: string;
}

export interface EventRow {
  readonly namespace: string;
  readonly object: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly age: string;
  readonly count: number;
}

export interface LeaderRow {
  readonly holder: string;
  readonly renewed: string;
  /** The holder renewed within the Lease's duration: a controller is alive and leading. */
  readonly fresh: boolean;
}

export interface Overview {
  readonly controller: Section<LeaderRow>;
  readonly gitSyncs: Section<GitSyncRow>;
  readonly sealedSecrets: Section<SealedSecretRow>;
  readonly events: Section<EventRow>;
}

export interface InventoryGroup {
  readonly kind: string;
  readonly namespaces: readonly { readonly namespace: string; readonly names: readonly string[] }[];
}

export interface GitSyncDetail {
  readonly row: GitSyncRow;
  readonly url: string;
  readonly ref: string;
  readonly path: string;
  readonly conditions: readonly { readonly type: string; readonly status: string; readonly reason: string; readonly message: string; readonly age: string }[];
  readonly inventory: readonly InventoryGroup[];
  readonly inventoryCount: number;
  /** status.history, newest first (empty when the controller has not recorded any). */
  readonly history: readonly HistoryRow[];
}

export interface HistoryRow {
  readonly revision: string;
  readonly commit: string;
  readonly message: string;
  readonly appliedAt: string;
  readonly age: string;
  readonly objects: number;
  readonly result: string;
}

/** status.history (oldest first, as stored) as rows newest first; malformed entries are skipped, at most `limit`. */
export function historyRows(history: unknown, now: number, limit = 10): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const e of (Array.isArray(history) ? history : []).slice(-limit).reverse()) {
    const x = e && typeof e === 'object' ? e as Record<string, unknown> : {};
    if (typeof x.revision !== 'string' || !x.revision) continue;
    const appliedAt = str(x.appliedAt);
    rows.push({ revision: x.revision, commit: commitOf(x.revision), message: str(x.message), appliedAt, age: formatAge(appliedAt, now), objects: typeof x.objects === 'number' ? x.objects : 0, result: str(x.result) });
  }
  return rows;
}

/** "42s", "5m", "3h", "2d": kubectl's short ages. An unknown or future time is "". */
export function formatAge(since: string | undefined, now: number): string {
  const t = since ? Date.parse(since) : NaN;
  if (!Number.isFinite(t) || t > now + 1_000) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7_200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The commit of a revision "<ref>@sha1:<hex>" (or sha256), shortened to 12 characters. */
export function commitOf(revision: string | undefined): string {
  const at = revision?.lastIndexOf('@') ?? -1;
  if (!revision || at < 0) return '';
  const colon = revision.indexOf(':', at);
  const hex = colon < 0 ? '' : revision.slice(colon + 1);
  return /^[0-9a-f]{7,64}$/.test(hex) ? hex.slice(0, 12) : '';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const cond = (conds: readonly Condition[] | undefined, type: string) => (Array.isArray(conds) ? conds.find((c) => c?.type === type) : undefined);
const tri = (s: unknown): 'True' | 'False' | 'Unknown' => (s === 'True' || s === 'False' ? s : 'Unknown');

export function gitSyncRow(gs: GitSyncObject, now: number): GitSyncRow {
  const st = gs.status ?? {};
  const ready = cond(st.conditions, 'Ready');
  const revision = str(st.lastAppliedRevision);
  return {
    namespace: str(gs.metadata.namespace),
    name: str(gs.metadata.name),
    ready: tri(ready?.status),
    reason: str(ready?.reason),
    message: str(ready?.message),
    revision,
    commit: commitOf(revision),
    age: formatAge(gs.metadata.creationTimestamp, now),
    drifted: typeof st.drifted === 'number' ? st.drifted : 0,
    suspended: gs.spec?.suspend === true,
  };
}

const byNamespaceName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
  a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

export function gitSyncRows(list: readonly GitSyncObject[], now: number): GitSyncRow[] {
  return list.map((g) => gitSyncRow(g, now)).sort(byNamespaceName);
}

/** SealedSecrets whose Synced condition is not True (missing counts: the controller has not opened it yet). */
export function sealedSecretProblems(list: readonly KubeObject[]): SealedSecretRow[] {
  const out: SealedSecretRow[] = [];
  for (const s of list) {
    const synced = cond((s.status as { conditions?: Condition[] } | undefined)?.conditions, 'Synced');
    if (synced?.status === 'True') continue;
    out.push({
      namespace: str(s.metadata.namespace), name: str(s.metadata.name),
      reason: synced ? str(synced.reason) || 'NotSynced' : 'Pending',
      message: synced ? str(synced.message) : 'not handled by the controller yet',
    });
  }
  return out.sort(byNamespaceName);
}

/** Keelson's Events (source keelson), newest first, at most `limit`. */
export function keelsonEvents(list: readonly KubeObject[], now: number, limit = 50): EventRow[] {
  const rows = list
    .filter((e) => (e.source as { component?: string } | undefined)?.component === 'keelson' || e.reportingComponent === 'keelson')
    .map((e) => {
      const when = str(e.lastTimestamp) || str(e.eventTime) || str(e.metadata.creationTimestamp);
      const inv = (e.involvedObject ?? {}) as { kind?: string; name?: string };
      return {
        at: Date.parse(when) || 0,
        row: {
          namespace: str(e.metadata.namespace), object: `${str(inv.kind)}/${str(inv.name)}`, type: str(e.type),
          reason: str(e.reason), message: str(e.message), age: formatAge(when, now), count: typeof e.count === 'number' ? e.count : 1,
        },
      };
    });
  rows.sort((a, b) => b.at - a.at);
  return rows.slice(0, limit).map((r) => r.row);
}

/** Inventory ids "<namespace>_<name>_<group>_<kind>" as a tree: kind (group-qualified) → namespace → names. */
export function inventoryTree(entries: readonly InventoryEntry[] | undefined): InventoryGroup[] {
  const kinds = new Map<string, Map<string, string[]>>();
  for (const e of Array.isArray(entries) ? entries : []) {
    const parts = typeof e?.id === 'string' ? e.id.split('_') : [];
    if (parts.length !== 4) continue;
    const [namespace, name, group, kind] = parts as [string, string, string, string];
    if (name === '' || kind === '') continue;
    const k = group ? `${kind}.${group}` : kind;
    const nss = kinds.get(k) ?? new Map<string, string[]>();
    kinds.set(k, nss);
    const ns = namespace || '(cluster)';
    nss.set(ns, [...(nss.get(ns) ?? []), name]);
  }
  return [...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, nss]) => ({
    kind,
    namespaces: [...nss.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, names]) => ({ namespace, names: names.sort() })),
  }));
}

export function gitSyncDetail(gs: GitSyncObject, now: number): GitSyncDetail {
  const spec = gs.spec ?? {};
  const ref = (spec.ref ?? {}) as Record<string, unknown>;
  const refText = ['branch', 'tag', 'semver', 'commit'].map((k) => (typeof ref[k] === 'string' ? `${k} ${ref[k] as string}` : '')).filter(Boolean).join(', ');
  const conditions = (Array.isArray(gs.status?.conditions) ? gs.status.conditions : []).map((c) => ({
    type: str(c.type), status: str(c.status), reason: str(c.reason), message: str(c.message), age: formatAge(c.lastTransitionTime, now),
  }));
  const inventory = inventoryTree(gs.status?.inventory);
  return {
    row: gitSyncRow(gs, now), url: str(spec.url), ref: refText || 'branch main', path: str(spec.path) || '.',
    conditions, inventory, inventoryCount: inventory.reduce((n, g) => n + g.namespaces.reduce((m, ns) => m + ns.names.length, 0), 0),
    history: historyRows(gs.status?.history, now),
  };
}

/** The controller's leader Lease as a health line; no Lease (or no holder) is an empty list. */
export function leaderOf(lease: KubeObject | undefined, now: number): LeaderRow[] {
  const spec = (lease?.spec ?? {}) as Record<string, unknown>;
  const holder = typeof spec.holderIdentity === 'string' ? spec.holderIdentity : '';
  if (!holder) return [];
  const renew = typeof spec.renewTime === 'string' ? spec.renewTime : '';
  const duration = typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : 15;
  const at = Date.parse(renew);
  return [{ holder, renewed: formatAge(renew, now), fresh: Number.isFinite(at) && at + duration * 1000 >= now }];
}

/** A failed list or get as a Section: 403 is the forbidden state; the message names what was refused. */
export function sectionError<T>(status: number | undefined, what: string, message: string): Section<T> {
  if (status === 403) return { state: 'forbidden', message: `your Kubernetes user may not list ${what}` };
  if (status === 404) return { state: 'error', message: `${what} are not served by this cluster (is the CRD installed?)` };
  return { state: 'error', message: `cannot list ${what}: ${message}` };
}

export const WORKLOAD_KINDS = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' } as const;

export interface WorkloadDetail {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** ConfigMaps and Secrets the pod template names (volumes, envFrom, env valueFrom, projected): names only. */
  readonly references: readonly { readonly kind: 'ConfigMap' | 'Secret'; readonly name: string }[];
  /** keelson.dev/last-reload, parsed: when, what triggered it, how it changed. */
  readonly lastReload: { readonly at: string; readonly age: string; readonly trigger: string; readonly change: string } | undefined;
  readonly rollout: { readonly state: 'Complete' | 'Progressing' | 'Failed'; readonly message: string; readonly desired: number; readonly updated: number; readonly ready: number; readonly available: number };
  readonly events: readonly EventRow[];
}

type Json = Record<string, unknown>;
const o = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Every ConfigMap/Secret a pod spec names, deduplicated and sorted. */
export function podReferences(podSpec: unknown): { kind: 'ConfigMap' | 'Secret'; name: string }[] {
  const seen = new Map<string, { kind: 'ConfigMap' | 'Secret'; name: string }>();
  const add = (kind: 'ConfigMap' | 'Secret', name: unknown) => { if (typeof name === 'string' && name) seen.set(`${kind}/${name}`, { kind, name }); };
  const spec = o(podSpec);
  for (const v of arr(spec.volumes)) {
    const vol = o(v);
    add('ConfigMap', o(vol.configMap).name);
    add('Secret', o(vol.secret).secretName);
    for (const s of arr(o(vol.projected).sources)) { add('ConfigMap', o(o(s).configMap).name); add('Secret', o(o(s).secret).name); }
  }
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers)]) {
    for (const f of arr(o(c).envFrom)) { add('ConfigMap', o(o(f).configMapRef).name); add('Secret', o(o(f).secretRef).name); }
    for (const e of arr(o(c).env)) { const from = o(o(e).valueFrom); add('ConfigMap', o(from.configMapKeyRef).name); add('Secret', o(from.secretKeyRef).name); }
  }
  return [...seen.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** Rollout state as kubectl rollout status decides it, for Deployments (conditions) and the other kinds (counts). */
export function rolloutOf(kind: string, w: KubeObject): WorkloadDetail['rollout'] {
  const spec = o(w.spec);
  const st = o(w.status);
  const generation = num(w.metadata.generation);
  const observed = num(st.observedGeneration);
  const desired = kind === 'DaemonSet' ? num(st.desiredNumberScheduled) : (typeof spec.replicas === 'number' ? spec.replicas : 1);
  const updated = kind === 'DaemonSet' ? num(st.updatedNumberScheduled) : num(st.updatedReplicas);
  const ready = kind === 'DaemonSet' ? num(st.numberReady) : num(st.readyReplicas);
  const available = kind === 'DaemonSet' ? num(st.numberAvailable) : num(st.availableReplicas);
  const counts = { desired, updated, ready, available };
  const progressing = arr(st.conditions).map(o).find((c) => c.type === 'Progressing');
  if (kind === 'Deployment' && progressing?.reason === 'ProgressDeadlineExceeded') return { state: 'Failed', message: str(progressing.message), ...counts };
  if (observed < generation) return { state: 'Progressing', message: 'waiting for the controller to observe the new generation', ...counts };
  if (updated < desired) return { state: 'Progressing', message: `${updated} of ${desired} updated`, ...counts };
  if (available < desired || ready < desired) return { state: 'Progressing', message: `${available} of ${desired} available`, ...counts };
  return { state: 'Complete', message: `${desired} of ${desired} updated and available`, ...counts };
}

export function workloadDetail(kind: string, w: KubeObject, events: readonly KubeObject[], now: number): WorkloadDetail {
  const template = o(o(w.spec).template);
  let lastReload: WorkloadDetail['lastReload'];
  try {
    const raw = w.metadata.annotations?.['keelson.dev/last-reload'];
    const lr = raw ? o(JSON.parse(raw)) : {};
    if (typeof lr.at === 'string' && typeof lr.trigger === 'string') lastReload = { at: lr.at, age: formatAge(lr.at, now), trigger: lr.trigger, change: str(lr.change) };
  } catch { /* not Keelson's JSON: nothing to show */ }
  const mine = events.filter((e) => { const inv = o(e.involvedObject); return inv.kind === kind && inv.name === w.metadata.name; });
  return {
    kind, namespace: str(w.metadata.namespace), name: str(w.metadata.name),
    references: podReferences(template.spec), lastReload, rollout: rolloutOf(kind, w), events: keelsonEvents(mine, now, 20),
  };
}

export interface SealedSecretDetail {
  readonly namespace: string;
  readonly name: string;
  readonly scope: string;
  /** Names of the sealed keys; the ciphertext itself is never sent. */
  readonly keys: readonly string[];
  readonly secretType: string;
  readonly synced: { readonly status: string; readonly reason: string; readonly message: string; readonly age: string };
}

export function sealedSecretDetail(ss: KubeObject, now: number): SealedSecretDetail {
  const spec = o(ss.spec);
  const synced = cond((ss.status as { conditions?: Condition[] } | undefined)?.conditions, 'Synced');
  return {
    namespace: str(ss.metadata.namespace), name: str(ss.metadata.name),
    scope: scopeFromAnnotations(ss.metadata.annotations),
    keys: Object.keys(o(spec.encryptedData)).sort(),
    secretType: str(o(spec.template).type) || 'Opaque',
    synced: synced
      ? { status: str(synced.status), reason: str(synced.reason), message: str(synced.message), age: formatAge(synced.lastTransitionTime, now) }
      : { status: 'Unknown', reason: 'Pending', message: 'not handled by the controller yet', age: '' },
  };
}

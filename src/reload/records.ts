// Compact store records. A ConfigMap or Secret becomes its identity, the annotations reload reads and a digest of
// its content (never the content); a workload becomes its config references, the annotations that matter, the
// KEELSON_* variables it carries and the few status fields rollout tracking reads. Pure.

import type { KubeObject } from '../kube/types.js';
import { CONFIG_HASH, configAnnotationsThatMatter, workloadAnnotationsThatMatter } from './annotations.js';
import { contentDigest } from './digest.js';
import { parsePolicy } from './policy.js';
import { type ConfigKind, type ConfigRef, type PodSpecLike, referencedConfigs } from './references.js';
import { type RolloutFields, rolloutFields } from '../kube/health.js';
import { KINDS, type WorkloadKind, podTemplateOf } from './workload-kinds.js';

export interface ConfigRecord {
  readonly kind: ConfigKind;
  readonly namespace: string;
  readonly name: string;
  /** contentDigest(data, binaryData). */
  readonly digest: string;
  readonly annotations: Readonly<Record<string, string>>;
}

export function configRecord(kind: ConfigKind, obj: KubeObject): ConfigRecord {
  return {
    kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name!,
    digest: contentDigest(obj.data as Record<string, string> | undefined, obj.binaryData as Record<string, string> | undefined),
    annotations: configAnnotationsThatMatter(obj.metadata.annotations),
  };
}

/** Index value under which workloads are filed for a config: "ns/ConfigMap/name", or "ns/ConfigMap/*" for patterns. */
export const configIndexKey = (namespace: string, kind: ConfigKind, name: string): string => `${namespace}/${kind}/${name}`;
export const CONFIG_INDEX = 'config';
export const NAMESPACE_INDEX = 'namespace';

export interface WorkloadRecord {
  readonly kind: WorkloadKind;
  /** The served apiVersion (a CronJob's depends on the cluster). */
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** metadata.deletionTimestamp is set. */
  readonly deleting: boolean;
  /** Argo Rollout: spec.restartAt as keelson-reload last wrote it (carried forward by every write). */
  readonly restartAt?: string;
  /** A Job a CronJob controls (its runs are the CronJob's business, never re-created on their own). */
  readonly cronJobOwned: boolean;
  readonly resourceVersion: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly templateAnnotations: Readonly<Record<string, string>>;
  readonly refs: readonly ConfigRef[];
  /** Regular containers, in order (the env-vars strategy's fallback target is the first). */
  readonly containers: readonly string[];
  /** KEELSON_<NAME>_<CONFIGMAP|SECRET> variables per container, as written by a previous roll. */
  readonly ownedEnv: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly rollout: RolloutFields;
  /** Index values: the configs that may concern this workload. */
  readonly index: readonly string[];
  /** Everything a reload decision reads, as one string: a change of it (not of status) needs a reconcile. */
  readonly sig: string;
}

export const OWNED_ENV = /^KEELSON_[A-Z0-9_]+_(CONFIGMAP|SECRET)$/;

interface Container { name: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }
interface WorkloadSpec {
  template?: { metadata?: { annotations?: Record<string, string> }; spec?: PodSpecLike & { containers?: Container[] } };
}

/** Moved to the shared health rules; re-exported for reload's callers. */
export { rolloutFields };

export function workloadRecord(kind: WorkloadKind, obj: KubeObject, apiVersion = KINDS[kind].apiVersion): WorkloadRecord {
  const tpl = podTemplateOf(kind, obj) as WorkloadSpec['template'];
  const podSpec = tpl?.spec;
  const annotations = workloadAnnotationsThatMatter(obj.metadata.annotations);
  const templateAnnotations = workloadAnnotationsThatMatter(tpl?.metadata?.annotations);
  const refs = referencedConfigs(podSpec);
  const containers = (podSpec?.containers ?? []).map((c) => c.name).filter((n): n is string => typeof n === 'string');
  const ownedEnv: Record<string, Record<string, string>> = {};
  for (const c of podSpec?.containers ?? []) {
    for (const e of c.env ?? []) {
      if (OWNED_ENV.test(e.name) && typeof e.value === 'string') (ownedEnv[c.name] ??= {})[e.name] = e.value;
    }
  }
  const ns = obj.metadata.namespace ?? '';
  // The named lists do not depend on --auto-reload-all, so the index can be computed without Options.
  const policy = parsePolicy(annotations, templateAnnotations, { autoReloadAll: false });
  const index = new Set<string>(refs.map((r) => configIndexKey(ns, r.kind, r.name)));
  for (const kind of ['ConfigMap', 'Secret'] as const) {
    for (const p of policy.named[kind]) {
      // A '.' in a plain name is still a regex wildcard (as in Reloader): file it under the namespace too.
      if (p.literal) index.add(configIndexKey(ns, kind, p.source));
      if (!p.literal || p.source.includes('.')) index.add(configIndexKey(ns, kind, '*'));
    }
  }
  const deleting = !!obj.metadata.deletionTimestamp;
  const cronJobOwned = kind === 'Job' && (obj.metadata.ownerReferences ?? []).some((o) => o.kind === 'CronJob' && o.controller === true);
  const restartAt = kind === 'Rollout' && typeof (obj.spec as { restartAt?: unknown } | undefined)?.restartAt === 'string' ? (obj.spec as { restartAt: string }).restartAt : undefined;
  const sig = JSON.stringify([annotations, templateAnnotations, refs, containers, ownedEnv, deleting, restartAt]);
  return {
    kind, apiVersion, namespace: ns, name: obj.metadata.name!, uid: obj.metadata.uid ?? '', resourceVersion: obj.metadata.resourceVersion ?? '', deleting, cronJobOwned, restartAt,
    annotations, templateAnnotations, refs, containers, ownedEnv, rollout: rolloutFields(kind, obj), index: [...index], sig,
  };
}

/** The pod template's current config hash (annotations strategy), if any. */
export const currentConfigHash = (w: WorkloadRecord): string | undefined => w.templateAnnotations[CONFIG_HASH];
